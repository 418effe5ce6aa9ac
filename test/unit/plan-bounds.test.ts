import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError, type Problem } from "../../src/core/errors.js";
import { buildExecutionPlan, type RepoFacts } from "../../src/core/plan/build.js";
import { parsePlan } from "../../src/core/plan/load.js";
import { LIMITS } from "../../src/core/plan/schema.js";
import { mermaidFlowchart } from "../../src/core/render/mermaid.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { executionPlan, facts } from "../helpers/plans.js";

/** The problems `text` is refused with, or [] when it builds. */
function problemsOf(text: string, extra: Partial<RepoFacts> = {}): Problem[] {
  try {
    buildExecutionPlan(parsePlan(text, "plan.yaml"), { ...facts, ...extra });
    return [];
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
}
const yaml = (lines: string[]) => ["version: 1", ...lines, ""].join("\n");
const oneTask = (task: string, top: string[] = ["feature: Demo"]) => yaml([...top, "tasks:", `  - ${task}`]);
const messages = (problems: Problem[]) => problems.map((p) => `${p.message} | fix: ${p.fix}`).join("\n");

describe("text fields are bounded, and the message names the limit and the fix", () => {
  const cases: Array<[string, (n: number) => string, number, RegExp]> = [
    ["feature", (n) => yaml([`feature: ${"f".repeat(n)}`, "tasks:", "  - {id: a, title: A}"]), LIMITS.feature, /feature has at most 300 characters/],
    ["title", (n) => oneTask(`{id: a, title: ${"t".repeat(n)}}`), LIMITS.title, /title has at most 300 characters/],
    ["worktreeRoot", (n) => yaml(["feature: Demo", `worktreeRoot: ../${"w".repeat(n - 3)}`, "tasks:", "  - {id: a, title: A}"]), LIMITS.worktreeRoot, /worktreeRoot has at most 1024 characters/],
    ["owns", (n) => oneTask(`{id: a, title: A, owns: [${"o".repeat(n)}]}`), LIMITS.ownedPath, /longer than 1024 characters/],
    ["verify", (n) => oneTask(`{id: a, title: A, verify: ${"v".repeat(n)}}`), LIMITS.verify, /a verify is at most 4 KiB/],
    ["prompt", (n) => oneTask(`{id: a, title: A, prompt: ${"p".repeat(n)}}`), LIMITS.prompt, /a prompt is at most 32 KiB/],
    ["integrationBranch", (n) => yaml(["feature: Demo", `integrationBranch: ${"b".repeat(n)}`, "tasks:", "  - {id: a, title: A}"]), LIMITS.branch, /a branch name here is at most 200 bytes/],
  ];
  it.each(cases)("%s: the limit passes, one more is refused", (_, text, limit, message) => {
    expect(problemsOf(text(limit))).toEqual([]);
    const problems = problemsOf(text(limit + 1));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(message);
    expect(problems[0]!.fix).toBeTruthy();
  });

  it("counts prompts and commands in UTF-8 bytes, as argv carries them", () => {
    // 11,000 characters, 33,000 bytes.
    const problems = problemsOf(oneTask(`{id: a, title: A, prompt: ${"€".repeat(11_000)}}`));
    expect(messages(problems)).toContain("the prompt is 33000 bytes of UTF-8; a prompt is at most 32 KiB");
    expect(problems[0]!.fix).toContain("put long instructions in a file");
    expect(problemsOf(oneTask(`{id: a, title: A, verify: ${"é".repeat(2049)}}`))[0]!.message).toContain("the verify is 4098 bytes");
  });
});

describe("estimates", () => {
  it.each([".inf", "-.inf", ".nan", "1e400"])("refuses %s without contradicting itself", (value) => {
    const problems = problemsOf(oneTask(`{id: a, title: A, estimate: ${value}}`));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/^expected a finite number, found /);
    expect(problems[0]!.message).not.toMatch(/found number/);
    expect(problems[0]!.fix).toContain("at most 1000000");
  });

  it("refuses more than 1e6, accepts 1e6, and sums stay finite", () => {
    expect(messages(problemsOf(oneTask("{id: a, title: A, estimate: 1000001}")))).toContain("an estimate is at most 1000000 | fix: estimates are relative");
    const tasks = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, title: "T", estimate: LIMITS.estimate }));
    const plan = executionPlan({ tasks, maxParallel: 1 });
    expect(plan.totalEstimate).toBe(200 * LIMITS.estimate);
    expect(plan.length).toBe(200 * LIMITS.estimate);
  });

  it("says a maxParallel of .inf is not a finite number, with the fix", () => {
    const [p] = problemsOf(yaml(["feature: Demo", "maxParallel: .inf", "tasks:", "  - {id: a, title: A}"]));
    expect(p).toMatchObject({ message: "expected a finite number, found infinity (.inf)", fix: "write a whole number of sessions from 1 to 64, like `4`" });
  });
});

describe("every problem names its fix", () => {
  const corpus = join(REPO_ROOT, "test", "fixtures", "malformed");
  const extra = [
    oneTask("{id: a, title: A, agent: abcdefghijklmnopqrstuvwxyzabcdefg}"),
    oneTask("{id: abcdefghijklmnopqrstuvwxyzabcdefg, title: A}"),
    oneTask("{id: a, title: A, agent: 1x}"),
    oneTask("{id: a, title: 12}"),
    oneTask("{id: a, title: A, estimate: true}"),
    oneTask("{id: a, title: A, owns: {a: 1}}"),
    yaml(["feature: Demo", "slug: Not A Slug", "tasks:", "  - {id: a, title: A}"]),
    yaml(["feature: Demo", "slug: this-slug-is-much-longer-than-forty-eight-characters-for-sure", "tasks:", "  - {id: a, title: A}"]),
    yaml(["feature: Demo", "maxParallel: 2.5", "tasks:", "  - {id: a, title: A}"]),
    yaml(["feature: Demo", "maxParallel: 65", "tasks:", "  - {id: a, title: A}"]),
    yaml(["feature: Demo", 'worktreeRoot: "a\\nb"', "tasks:", "  - {id: a, title: A}"]),
    yaml(["feature: [1]", "tasks: [3]"]),
    yaml(["feature: Demo", "tasks:", '  - {id: a, title: A, prompt: "x\\0y"}']),
  ];
  const texts = [
    ...readdirSync(corpus)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => readFileSync(join(corpus, f), "utf8")),
    ...extra,
  ];
  it.each(texts.map((t, i) => [i, t]))("case %i", (_, text) => {
    const problems = problemsOf(text as string);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p.fix, `${p.where}: ${p.message}`).toMatch(/\S/);
  });
});

describe("worktreeRoot lies outside the repository and its git directory", () => {
  const repo: Partial<RepoFacts> = { root: "/work/app", gitCommonDir: "/work/app/.git", home: "/home/me" };
  const withRoot = (root: string, more: Partial<RepoFacts> = repo) => problemsOf(yaml(["feature: Demo", `worktreeRoot: ${JSON.stringify(root)}`, "tasks:", "  - {id: a, title: A}"]), more);

  it.each(["/", ".", ".git", "./", "src/wt", "/work/app", "/work/app/", "../app/wt", "/work/app/.git/wt", "..//app"])("refuses %s", (root) => {
    const problems = withRoot(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.where).toContain("(worktreeRoot)");
    expect(problems[0]!.message).toMatch(/filesystem root|inside the repository's|the repository's work tree/);
    expect(problems[0]!.fix).toContain("`..` (the default)");
  });

  it("refuses a folder inside a git directory kept outside the work tree", () => {
    const problems = withRoot("/srv/git/app.git/worktrees-here", { ...repo, gitCommonDir: "/srv/git/app.git" });
    expect(messages(problems)).toContain("is inside the repository's git directory (/srv/git/app.git)");
    expect(withRoot("/srv/git/app.gitx", { ...repo, gitCommonDir: "/srv/git/app.git" })).toEqual([]);
  });

  it.each(["..", "../wt", "/elsewhere", "/work/app-worktrees", "~", "~/wt"])("accepts %s", (root) => {
    expect(withRoot(root)).toEqual([]);
  });

  it("expands ~ and ~/... to the home folder", () => {
    const at = (worktreeRoot: string) => executionPlan({ worktreeRoot, tasks: [{ id: "a", title: "A" }] }, repo).phases[0]!.tasks[0]!.worktree;
    expect(at("~")).toBe("/home/me/app-demo-a");
    expect(at("~/wt/")).toBe("/home/me/wt/app-demo-a");
    expect(at("../wt")).toBe("../wt/app-demo-a");
    expect(executionPlan({ worktreeRoot: "~/wt", tasks: [{ id: "a", title: "A" }] }, repo).worktreeRoot).toBe("/home/me/wt");
  });

  it("refuses ~user, and ~ when the home folder is unknown", () => {
    expect(messages(withRoot("~bob/wt"))).toContain("names another user's home folder");
    expect(messages(withRoot("~/wt", { root: "/work/app" }))).toContain("the home folder is not known | fix: write the folder's full path");
  });

  it("refuses a home folder inside the repository", () => {
    expect(messages(withRoot("~", { ...repo, home: "/work/app/home" }))).toContain("inside the repository's work tree");
  });

  it("skips the check when the repository's paths are unknown", () => {
    expect(withRoot(".", {})).toEqual([]);
    expect(messages(withRoot("/", {}))).toContain("filesystem root");
  });
});

describe("branch names", () => {
  const branches = (base: string, integration?: string, ids = ["a"]) =>
    problemsOf(
      yaml([
        "feature: Demo",
        `base: ${JSON.stringify(base)}`,
        ...(integration ? [`integrationBranch: ${JSON.stringify(integration)}`] : []),
        "tasks:",
        ...ids.map((id) => `  - {id: ${id}, title: T}`),
      ]),
    );

  it.each([
    ["refs/heads/main", undefined, "`main`"],
    ["heads/main", undefined, "`main`"],
    ["tags/v1", undefined, "`v1`"],
    ["remotes/origin/main", undefined, "`origin/main`"],
    ["main", "refs/heads/feature/x", "`feature/x`"],
    ["main", "heads/feature/x", "`feature/x`"],
  ])("refuses a ref path: base %s, integrationBranch %s", (base, integration, short) => {
    const problems = branches(base, integration);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain("it is a ref path, not a branch name");
    expect(problems[0]!.fix).toBe(`write the branch's short name, like ${short}`);
  });

  it("refuses an integration branch equal to the base", () => {
    expect(messages(branches("main", "main"))).toContain("integrationBranch and base are both `main`");
  });

  it("refuses branches that would be a folder of one another (a git D/F conflict), once", () => {
    const under = branches("main", "main/integration", ["a", "b"]);
    expect(under).toHaveLength(1);
    expect(under[0]!.message).toBe("the plan's integrationBranch `main/integration` lies under the plan's base `main`: git cannot have a branch that is also a folder of branches");
    expect(under[0]!.fix).toContain("remove integrationBranch");
    const above = branches("feature/x-a/y", "feature/x");
    expect(messages(above)).toContain("the plan's base `feature/x-a/y` lies under task `a`'s branch `feature/x-a`");
    expect(above[0]!.fix).toContain("choose an integrationBranch that `feature/x-a/y` does not continue with '/'");
    expect(branches("feature/x/y", "feature/x")[0]!.message).toContain("the plan's base `feature/x/y` lies under the plan's integrationBranch `feature/x`");
    expect(branches("main", "feature/main")).toEqual([]);
    expect(branches("feature/x-ab", "feature/x", ["a"])).toEqual([]);
  });

  it("refuses a task branch equal to the base", () => {
    expect(messages(branches("feature/x-a", "feature/x"))).toContain("task `a`'s branch would be `feature/x-a`, which is already the plan's base");
  });
});

describe("small wording", () => {
  it("never suggests a task's own id for its unknown dependency", () => {
    const [alone] = problemsOf(oneTask("{id: a, title: A, dependsOn: [ab]}"));
    expect(alone!.fix).toBe("remove it: this is the plan's only task");
    const [two] = problemsOf(yaml(["feature: Demo", "tasks:", "  - {id: a, title: A, dependsOn: [aa]}", "  - {id: b, title: B}"]));
    expect(two!.fix).not.toContain("did you mean `a`");
    expect(two!.fix).toBe("use one of: b");
  });

  it("names a merge setting's own keys for an unknown one, and what merge-tree takes for a bad value", () => {
    const problems = problemsOf(yaml(["feature: Demo", "merge: {strategy: recursive}", "tasks:", "  - {id: a, title: A, merge: {option: [theirs]}}"]));
    expect(messages(problems)).toBe(
      [
        "a merge strategy is `ort` or `subtree` | fix: `git merge-tree` merges with ort only; `subtree` is ort shifting one side's tree (git's `-s subtree`)",
        "unknown key `option` (did you mean `options`?) | fix: use only these keys here: strategy, options",
      ].join("\n"),
    );
  });

  it("draws Mermaid labels that read well in a terminal", () => {
    const plan = executionPlan({
      tasks: [
        { id: "a", title: `Update the readme and the café menu ${"x".repeat(60)}` },
        { id: "b", title: "Add 日本語 docs, 100% done (v2)!" },
      ],
    });
    const chart = mermaidFlowchart(plan);
    expect(chart).toContain("Update the readme and the café menu xxxxxxxxxxxxxxxxxxxxx...");
    expect(chart).toContain("Add 日本語 docs, 100% done (v2)!");
    expect(chart).not.toMatch(/#8230;|#233;/);
  });
});
