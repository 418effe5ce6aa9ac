import { describe, expect, it } from "vitest";
import { budgetStop, budgetStopLines, checkKey, commentKey, decideWatch, filesNamed, lastOwner, MAX_ITEMS_PER_HAND_BACK, type PrComment, type WatchFacts } from "../../src/core/decide/decide-watch.js";
import { repositoryPath } from "../../src/core/text/repository-path.js";

const HEAD = "a".repeat(40);
const TIP = "b".repeat(40);
const comment = (over: Partial<PrComment> = {}): PrComment => ({ id: 7, path: "b/notes.txt", line: 2, body: "please fix", author: "rev", collaborator: true, ...over });

function facts(over: Partial<WatchFacts> = {}, pr: Partial<WatchFacts["pr"]> = {}): WatchFacts {
  return {
    pr: { number: 3, url: "https://example.test/pr/3", state: "OPEN", headOid: HEAD, reviewDecision: "REVIEW_REQUIRED", checks: [], comments: [], ...pr },
    tasks: [
      { id: "a", owns: ["a/"] },
      { id: "b", owns: ["b/"] },
      { id: "c", owns: ["b/late.txt"] },
    ],
    files: new Set(["a/value.txt", "b/notes.txt", "b/late.txt", "README.md"]),
    handed: new Set(),
    relation: "same",
    integrationTip: HEAD,
    rounds: 0,
    maxRounds: 3,
    ...over,
  };
}

describe("decideWatch", () => {
  it("a merged pull request is done; a closed one stops", () => {
    expect(decideWatch(facts({}, { state: "MERGED" }))).toMatchObject([{ kind: "done" }]);
    expect(decideWatch(facts({}, { state: "CLOSED" }))).toMatchObject([{ kind: "stop" }]);
  });

  it("an integration branch ahead of the pull request's head is pushed first; one behind or apart stops", () => {
    expect(decideWatch(facts({ relation: "ahead", integrationTip: TIP }))).toEqual([{ kind: "push", from: HEAD, to: TIP }]);
    for (const relation of ["behind", "diverged"] as const) expect(decideWatch(facts({ relation }))).toMatchObject([{ kind: "stop", reason: expect.stringMatching(/someone pushed/) }]);
  });

  it("a failing check goes to the owners of the files its log names, with an excerpt of the log", () => {
    const log = "step 1 ok\nError: /home/runner/work/r/r/a/value.txt:3:1 expected 2, got 1\n";
    const [action, ...rest] = decideWatch(facts({}, { checks: [{ name: "test", bucket: "fail", log }] }));
    expect(rest).toEqual([]);
    expect(action).toMatchObject({ kind: "hand-back", task: "a", items: [{ key: checkKey("test", HEAD), kind: "check", files: ["a/value.txt"] }] });
    expect(action!.kind === "hand-back" && action!.items[0]!.kind === "check" && action!.items[0]!.excerpt).toContain("expected 2, got 1");
  });

  it("a failing check whose log names no owned file is the user's, and once it was handed out the watch stops", () => {
    const checks = [{ name: "lint", bucket: "fail" as const, log: "something broke in README.md" }];
    expect(decideWatch(facts({}, { checks }))).toMatchObject([{ kind: "to-user", reason: expect.stringMatching(/no task owns the files its log names \(README.md\)/) }, { kind: "stop" }]);
    expect(decideWatch(facts({}, { checks: [{ name: "x", bucket: "fail" }] }))[0]).toMatchObject({ kind: "to-user", reason: "its log names no file of the repository" });
    expect(decideWatch(facts({ handed: new Set([checkKey("lint", HEAD)]) }, { checks }))).toMatchObject([{ kind: "stop", reason: expect.stringMatching(/lint fails/) }]);
  });

  it("a check's files are those its error lines name, when they name any", () => {
    const log = "ok 1 b/notes.txt exists\nnot ok 2 a/value.txt: expected 2\n0 errors in README.md";
    expect(decideWatch(facts({}, { checks: [{ name: "t", bucket: "fail", log }] }))).toMatchObject([{ kind: "hand-back", task: "a", items: [{ files: ["a/value.txt"] }] }]);
    expect(decideWatch(facts({}, { checks: [{ name: "t", bucket: "fail", log: "built b/notes.txt\nexit 1" }] }))).toMatchObject([{ kind: "hand-back", task: "b" }]);
  });

  it("the same check failing again at a new head is a new item", () => {
    const checks = [{ name: "test", bucket: "fail" as const, log: "a/value.txt" }];
    expect(decideWatch(facts({ handed: new Set([checkKey("test", TIP)]) }, { checks }))[0]).toMatchObject({ kind: "hand-back", task: "a" });
  });

  it("a comment goes to the last task in plan order whose owned paths cover its file", () => {
    expect(decideWatch(facts({}, { comments: [comment()] }))[0]).toMatchObject({ kind: "hand-back", task: "b", items: [{ key: commentKey(7), path: "b/notes.txt", body: "please fix" }] });
    expect(decideWatch(facts({}, { comments: [comment({ path: "b/late.txt" })] }))[0]).toMatchObject({ kind: "hand-back", task: "c" });
  });

  it("a comment by someone outside the repository, on an unowned file, or naming no repository path is the user's", () => {
    expect(decideWatch(facts({}, { comments: [comment({ collaborator: false })] }))[0]).toMatchObject({ kind: "to-user", reason: expect.stringMatching(/does not own, belong to or collaborate/) });
    expect(decideWatch(facts({}, { comments: [comment({ path: "README.md" })] }))[0]).toMatchObject({ kind: "to-user", reason: "no task owns README.md" });
    for (const path of ["../b/notes.txt", "/b/notes.txt", "b//x", "b/./x", "b/x\n"])
      expect(decideWatch(facts({}, { comments: [comment({ path })] }))[0], path).toMatchObject({ kind: "to-user", reason: "it names no file of the repository" });
  });

  it("items go out once, all of a task's together, tasks in plan order", () => {
    const checks = [{ name: "test", bucket: "fail" as const, log: "b/notes.txt a/value.txt" }];
    const actions = decideWatch(facts({}, { checks, comments: [comment(), comment({ id: 8 })] }));
    expect(actions.map((a) => a.kind === "hand-back" && [a.task, a.items.map((i) => i.key)])).toEqual([
      ["a", [checkKey("test", HEAD)]],
      ["b", [checkKey("test", HEAD), commentKey(7), commentKey(8)]],
    ]);
    const handed = new Set([checkKey("test", HEAD), commentKey(7), commentKey(8)]);
    expect(decideWatch(facts({ handed }, { checks }))).toMatchObject([{ kind: "stop" }]);
    expect(decideWatch(facts({ handed }, { comments: [comment()], reviewDecision: "APPROVED" }))).toMatchObject([{ kind: "done" }]);
  });

  it(`a session is handed at most ${MAX_ITEMS_PER_HAND_BACK} items a round; the rest go out in the next rounds`, () => {
    const comments = Array.from({ length: MAX_ITEMS_PER_HAND_BACK + 2 }, (_, i) => comment({ id: i + 1 }));
    const first = decideWatch(facts({}, { comments }));
    expect(first).toEqual([{ kind: "hand-back", task: "b", items: comments.slice(0, MAX_ITEMS_PER_HAND_BACK).map((c) => expect.objectContaining({ key: commentKey(c.id) })) }]);
    const handed = new Set(comments.slice(0, MAX_ITEMS_PER_HAND_BACK).map((c) => commentKey(c.id)));
    expect(decideWatch(facts({ handed, rounds: 1 }, { comments }))).toMatchObject([{ kind: "hand-back", task: "b", items: [{ key: commentKey(6) }, { key: commentKey(7) }] }]);
    expect(decideWatch(facts({ rounds: 3 }, { comments }))).toMatchObject([{ kind: "stop", reason: expect.stringMatching(/^7 more items/) }]);
  });

  it("a task at its budget is handed nothing: its items go to the other owners, else to the user", () => {
    const atBudget = new Map([["b", "spent $2.00 of its $1.00 budget"]]);
    expect(decideWatch(facts({ atBudget }, { comments: [comment()] }))[0]).toMatchObject({ kind: "to-user", reason: "b owns it, but is at its budget (spent $2.00 of its $1.00 budget)" });
    const checks = [{ name: "test", bucket: "fail" as const, log: "b/notes.txt a/value.txt" }];
    expect(decideWatch(facts({ atBudget }, { checks }))).toMatchObject([{ kind: "hand-back", task: "a", items: [{ key: checkKey("test", HEAD) }] }]);
    expect(decideWatch(facts({ atBudget: new Map([["a", "x"]]) }, { comments: [comment()] }))[0]).toMatchObject({ kind: "hand-back", task: "b" });
  });

  it("at the feature's budget nothing is handed to a session: the watch stops for the user to approve more; what no task owns still goes to the user", () => {
    const reached = { scope: "feature" as const, spentUsd: 2, limitUsd: 2 };
    const featureBudget = { spentUsd: 2, limitUsd: 2, reached };
    const checks = [{ name: "lint", bucket: "fail" as const, log: "README.md is wrong" }];
    // Its own budget's reason does not count then: the items wait for their owners, b included.
    const atBudget = new Map([["b", "spent $2.00 of its $1.00 budget"]]);
    expect(decideWatch(facts({ featureBudget, atBudget }, { comments: [comment()], checks }))).toEqual([
      expect.objectContaining({ kind: "to-user", reason: "no task owns the files its log names (README.md)" }),
      { kind: "budget", reached, tasks: ["b"] },
    ]);
    // Below the limit, or nothing for a session: the watch goes on as before.
    expect(decideWatch(facts({ featureBudget: { spentUsd: 1, limitUsd: 2 } }, { comments: [comment()] }))).toMatchObject([{ kind: "hand-back", task: "b" }]);
    expect(decideWatch(facts({ featureBudget }, { reviewDecision: "APPROVED" }))).toMatchObject([{ kind: "done" }]);
    expect(decideWatch(facts({ featureBudget, handed: new Set([commentKey(7)]) }, { comments: [comment()] }))).toMatchObject([{ kind: "wait" }]);
  });

  it("budgetStop and what the watch says when it stops there", () => {
    const reached = { scope: "feature" as const, spentUsd: 2.5, limitUsd: 2 };
    expect(budgetStop({ spentUsd: 2.5, limitUsd: 2, reached }, ["a", "b"])).toEqual({ kind: "budget", reached, tasks: ["a", "b"] });
    expect(budgetStop({ spentUsd: 2.5, limitUsd: 2, reached }, [])).toBeUndefined();
    expect(budgetStop({ spentUsd: 1, limitUsd: 2 }, ["a"])).toBeUndefined();
    expect(budgetStop(undefined, ["a"])).toBeUndefined();
    expect(budgetStopLines({ kind: "budget", reached, tasks: ["a", "b"] }, "my feat", "claude-parallel run 'my feat' --pr")).toEqual([
      "Stopped: the feature's sessions spent $2.50 of its $2.00 budget; the pull request's feedback for a, b waits, and no session starts until you approve more.",
      "  approve more: claude-parallel approve a 'my feat' --add <USD> (raises the feature's budget), then: claude-parallel run 'my feat' --pr",
    ]);
  });

  it("new items after the last round stop the watch instead", () => {
    expect(decideWatch(facts({ rounds: 3 }, { comments: [comment()] }))).toMatchObject([{ kind: "stop", reason: expect.stringMatching(/1 more item of feedback after 3 rounds/) }]);
  });

  it("without new items: pending checks wait, green and approved (or no review asked) is done, a review awaited waits", () => {
    expect(decideWatch(facts({}, { checks: [{ name: "t", bucket: "pending" }] }))).toMatchObject([{ kind: "wait", reason: "checks are still running" }]);
    expect(
      decideWatch(
        facts(
          {},
          {
            checks: [
              { name: "t", bucket: "pass" },
              { name: "s", bucket: "skipping" },
            ],
            reviewDecision: "APPROVED",
          },
        ),
      ),
    ).toMatchObject([{ kind: "done" }]);
    expect(decideWatch(facts({}, { reviewDecision: "" }))).toMatchObject([{ kind: "done", reason: "every check passes" }]);
    expect(decideWatch(facts({}, { reviewDecision: "CHANGES_REQUESTED" }))).toMatchObject([{ kind: "wait", reason: expect.stringMatching(/changes requested/) }]);
    expect(decideWatch(facts({}, { checks: [{ name: "t", bucket: "cancel" }] }))).toMatchObject([{ kind: "stop" }]);
  });
});

describe("routing helpers", () => {
  it("filesNamed finds repository files by a word or its endings, without line numbers", () => {
    const files = new Set(["src/x.ts", "a/value.txt", "x.ts"]);
    expect(filesNamed("at ./src/x.ts:3:4, see '/home/runner/work/r/r/a/value.txt'.", files)).toEqual(["src/x.ts", "a/value.txt"]);
    expect(filesNamed("nothing/here.md x.tsx", files)).toEqual([]);
  });
  it("lastOwner and repositoryPath", () => {
    expect(lastOwner("b/late.txt", facts().tasks)).toBe("c");
    expect(lastOwner("z", facts().tasks)).toBeUndefined();
    expect(repositoryPath("a/b.txt")).toBe(true);
    expect(repositoryPath("")).toBe(false);
  });
});
