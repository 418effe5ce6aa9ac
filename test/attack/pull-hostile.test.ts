import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ATTACK_SEED, prng } from "../helpers/attack.js";
import { runHelper, type CliResult } from "../helpers/cli.js";
import { TWO_PHASES, commitIn, refsOf } from "../helpers/feature.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { reusableFolder } from "../helpers/fixture.js";

/**
 * A remote's state ref is not the user's: whoever can push to the remote (another clone, a CI job,
 * a session with a write token) can make it say anything. A pull, or a start that finds a fetched
 * state ref, checks it whole and changes nothing when it is wrong; what it would run or tell the
 * sessions is taken only once the user trusts it (claude-parallel allow). Real git: a bare origin,
 * the clone that started the feature and pushed it (`one`, which also forges), and victims.
 */

const fixture = reusableFolder((root) => {
  const origin = join(root, "origin.git");
  git(root, "init", "-q", "--bare", "-b", "main", origin);
  const seed = makeRepo({ name: "seed", parent: root, files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES("echo trusted-verify-ran") } });
  git(seed, "switch", "-q", "-c", "develop");
  git(seed, "commit", "-q", "--allow-empty", "-m", "develop");
  git(seed, "push", "-q", origin, "main", "develop");
  const one = join(root, "one");
  git(root, "clone", "-q", origin, one);
  ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
  ok(runHelper(["push", "demo"], { cwd: one }));
  // The remote's develop moves on: a pull that took `develop` for a feature branch would bring it here.
  git(seed, "commit", "-q", "--allow-empty", "-m", "develop, later");
  git(seed, "push", "-q", origin, "develop");
  return { root, origin, one, legit: git(origin, "rev-parse", "refs/parallel/demo/state") };
});

let f: ReturnType<typeof fixture>;
beforeEach(() => {
  f = fixture();
});

function ok(r: CliResult): string {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout;
}
function refused(r: CliResult): string {
  expect(r.code, r.stdout + r.stderr).toBe(4);
  return r.stderr;
}

/** A clone of origin with a local `develop` of its own (behind origin's). */
function victim(name: string): string {
  const dir = join(f.root, name);
  git(f.root, "clone", "-q", f.origin, dir);
  git(dir, "branch", "-q", "develop", "origin/develop~1");
  return dir;
}

const hashObject = (text: string | Buffer) => execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: f.one, env: gitEnv, input: text, encoding: "utf8" }).trim();
const mktree = (entries: string[]) => execFileSync("git", ["mktree"], { cwd: f.one, env: gitEnv, input: entries.map((e) => e + "\n").join(""), encoding: "utf8" }).trim();

/** Pushes a state commit on top of the legit one, with the tree `entries` (`<mode> <type> <oid>\t<name>`). */
function pushTree(entries: string[]): string {
  const commit = git(f.one, "commit-tree", mktree(entries), "-p", f.legit, "-m", "forged");
  git(f.one, "push", "-q", "--force", "origin", `${commit}:refs/parallel/demo/state`);
  return commit;
}

/** Pushes the legit state with its plan and state edited (both parsed: edit in place). */
function forge(edit: (plan: Record<string, unknown>, state: { base: string; integrationBranch: string; phases: Record<string, { tasks: Record<string, Record<string, unknown>> }> }) => void): string {
  const plan = parse(git(f.one, "show", `${f.legit}:plan.yaml`));
  const state = JSON.parse(git(f.one, "show", `${f.legit}:state.json`));
  edit(plan, state);
  return pushTree([`100644 blob ${hashObject(stringify(plan))}\tplan.yaml`, `100644 blob ${hashObject(JSON.stringify(state, null, 2) + "\n")}\tstate.json`]);
}

const stateDir = (repo: string) => join(repo, ".git", "parallel", "demo");
const digestIn = (said: string) => /claude-parallel allow ([0-9a-f]{64})/.exec(said)?.[1] ?? "";

describe("a forged state on the remote", () => {
  it("naming the user's unrelated develop is refused whole; develop and every ref stay as they were", () => {
    const v = victim("v-develop");
    forge((_plan, state) => {
      state.phases["1"]!.tasks.a!.branch = "develop";
    });
    const before = refsOf(v);
    const said = refused(runHelper(["pull", "demo"], { cwd: v }));
    expect(said).toContain(`origin's refs/parallel/demo/state`);
    expect(said).toContain(`its state.json names "develop" as the branch of task a; the plan's branch for it is "feature/demo-a"`);
    expect(refsOf(v)).toBe(before);
    expect(existsSync(stateDir(v))).toBe(false);

    // Plan and state agreeing that the feature collects its work on develop: the user's own plan says otherwise.
    forge((plan, state) => {
      plan.integrationBranch = state.integrationBranch = "develop";
      for (const [id, t] of Object.entries(state.phases["1"]!.tasks)) t.branch = `develop-${id}`;
    });
    const asked = refused(runHelper(["pull", "demo"], { cwd: v }));
    expect(asked).toContain('  integrationBranch:\n    - "feature/demo"\n    + "develop"');
    expect(refsOf(v)).toBe(before);
  });

  it("naming the user's own checkouts as task worktrees: their paths are never taken, and a taken path is never cleared", () => {
    const v = victim("v-paths");
    const mine = join(f.root, "mine");
    git(v, "worktree", "add", "-q", mine, "develop");
    forge((_plan, state) => {
      Object.assign(state.phases["1"]!.tasks.a!, { worktree: v, made: false });
      Object.assign(state.phases["1"]!.tasks.b!, { worktree: mine, made: false });
    });
    // Something of the user's already sits where this clone would make task a's worktree.
    const planned = (id: string) => join(f.root, `v-paths-demo-${id}`);
    mkdirSync(planned("a"));
    writeFileSync(join(planned("a"), "notes.txt"), "mine\n");
    const before = refsOf(v);
    expect(refused(runHelper(["pull", "demo"], { cwd: v }))).toContain(`task a: origin's refs/parallel/demo/state (`);
    expect(readFileSync(join(planned("a"), "notes.txt"), "utf8")).toBe("mine\n");
    expect(refsOf(v)).toBe(before);

    execFileSync("mv", [planned("a"), join(f.root, "moved")]);
    ok(runHelper(["pull", "demo"], { cwd: v }));
    const state = JSON.parse(readFileSync(join(stateDir(v), "state.json"), "utf8"));
    expect(state.phases["1"].tasks.a).toMatchObject({ worktree: planned("a"), made: true });
    expect(state.phases["1"].tasks.b).toMatchObject({ worktree: planned("b"), made: true });
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: v }));
    expect(git(planned("a"), "symbolic-ref", "HEAD")).toBe("refs/heads/feature/demo-a");
    expect(git(v, "symbolic-ref", "HEAD")).toBe("refs/heads/main");
    expect(git(mine, "symbolic-ref", "HEAD")).toBe("refs/heads/develop");
    expect(git(v, "status", "--porcelain")).toBe("");
  });

  it("changing verify is shown and not run by the next sync; once allowed, it is taken and runs", () => {
    // Each verify says it ran in the sync's output (it runs confined: it can write nothing outside).
    const evil = "echo forged-verify-ran";
    forge((plan) => {
      plan.verify = evil;
    });
    // The clone that started the feature: its frozen plan is what it trusts.
    const said = refused(runHelper(["pull", "demo"], { cwd: f.one }));
    expect(said).toContain(`  verify (run on every merged phase):\n    - "echo trusted-verify-ran"\n    + "${evil}"`);
    expect(said).toMatch(/git show [0-9a-f]{12}:plan\.yaml/);
    commitIn(join(f.root, "one-demo-a"), { "a/x.txt": "a\n" });
    commitIn(join(f.root, "one-demo-b"), { "b/x.txt": "b\n" });
    const synced = runHelper(["sync", "demo", "--no-next"], { cwd: f.one });
    ok(synced);
    expect(synced.stderr).toContain("[verify]   trusted-verify-ran");
    expect(synced.stdout + synced.stderr).not.toContain("forged-verify-ran");

    // A clone new to the feature trusts its own plan file; the user allows exactly what was shown.
    const v = victim("v-verify");
    const asked = refused(runHelper(["pull", "demo"], { cwd: v }));
    expect(existsSync(stateDir(v))).toBe(false);
    expect(ok(runHelper(["allow", digestIn(asked)], { cwd: v }))).toContain("Allowed");
    expect(ok(runHelper(["pull", "demo"], { cwd: v }))).toContain("which you allowed");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: v }));
    commitIn(join(f.root, "v-verify-demo-a"), { "a/x.txt": "a\n" });
    commitIn(join(f.root, "v-verify-demo-b"), { "b/x.txt": "b\n" });
    const allowed = runHelper(["sync", "demo", "--no-next"], { cwd: v });
    ok(allowed);
    expect(allowed.stderr).toContain("[verify]   forged-verify-ran");
  });

  it("naming another base: unknown here, changed from the user's plan, or from this clone's", () => {
    const v = victim("v-base");
    const before = refsOf(v);
    const rebase = (base: string) =>
      forge((plan, state) => {
        plan.base = state.base = base;
      });
    rebase("nosuch");
    expect(refused(runHelper(["pull", "demo"], { cwd: v }))).toContain("its base `nosuch` is not a branch here, local or remote-tracking");
    // finish would merge the feature into develop.
    rebase("develop");
    expect(refused(runHelper(["pull", "demo"], { cwd: v }))).toContain('  base (finish merges into it):\n    - "main"\n    + "develop"');
    expect(refsOf(v)).toBe(before);
    expect(existsSync(stateDir(v))).toBe(false);

    git(f.one, "push", "-q", "--force", "origin", `${f.legit}:refs/parallel/demo/state`);
    ok(runHelper(["pull", "demo"], { cwd: v }));
    rebase("develop");
    const taken = refsOf(v);
    expect(refused(runHelper(["pull", "demo"], { cwd: v }))).toContain("its base is `develop`; this clone's is `main`");
    expect(refsOf(v)).toBe(taken);
  });

  it(`oversized or garbage: refused whole, nothing changed (seed ${ATTACK_SEED})`, () => {
    const random = prng(ATTACK_SEED);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const plan = git(f.one, "rev-parse", `${f.legit}:plan.yaml`);
    const state = git(f.one, "rev-parse", `${f.legit}:state.json`);
    const forgeries: Array<[string, () => void, string]> = [
      ["state.json is random bytes", () => pushTree([`100644 blob ${plan}\tplan.yaml`, `100644 blob ${hashObject(bytes(1 + Math.floor(random() * 4096)))}\tstate.json`]), "its state.json is not JSON"],
      [
        "plan.yaml is random bytes",
        () => pushTree([`100644 blob ${hashObject(bytes(1 + Math.floor(random() * 4096)))}\tplan.yaml`, `100644 blob ${state}\tstate.json`]),
        "its plan.yaml is not a valid plan",
      ],
      [
        "plan.yaml is over 4 MiB",
        () => pushTree([`100644 blob ${hashObject(Buffer.alloc(4 * 1024 * 1024 + 1 + Math.floor(random() * 1024), 0x23))}\tplan.yaml`, `100644 blob ${state}\tstate.json`]),
        "its plan.yaml is 419",
      ],
      [
        "an extra file",
        () => pushTree([`100644 blob ${plan}\tplan.yaml`, `100644 blob ${state}\tstate.json`, `100755 blob ${state}\tpost-checkout`]),
        'holds more than plan.yaml and state.json ("post-checkout")',
      ],
      ["plan.yaml is a symbolic link", () => pushTree([`120000 blob ${hashObject("/etc/passwd")}\tplan.yaml`, `100644 blob ${state}\tstate.json`]), "does not hold plan.yaml and state.json as files"],
      ["the ref names a blob", () => git(f.one, "push", "-q", "--force", "origin", `${state}:refs/parallel/demo/state`), "is not a commit"],
    ];
    for (let i = forgeries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [forgeries[i], forgeries[j]] = [forgeries[j]!, forgeries[i]!];
    }
    const v = victim("v-garbage");
    const before = refsOf(v);
    for (const [what, push, message] of forgeries) {
      push();
      const said = refused(runHelper(["pull", "demo"], { cwd: v }));
      expect(said, `${what} (seed ${ATTACK_SEED})`).toContain(message);
      expect(refsOf(v), what).toBe(before);
      expect(existsSync(stateDir(v)), what).toBe(false);
    }
  });

  it("fetched by hand and found by start: checked and trusted the same way", () => {
    forge((plan, state) => {
      plan.verify = "sh -c 'echo forged'";
      state.phases["1"]!.tasks.a!.worktree = f.root;
    });
    const v = victim("v-start");
    git(
      v,
      "fetch",
      "-q",
      "origin",
      "refs/parallel/demo/state:refs/parallel/demo/state",
      "refs/heads/feature/demo-a:refs/heads/feature/demo-a",
      "refs/heads/feature/demo-b:refs/heads/feature/demo-b",
      "refs/heads/feature/demo:refs/heads/feature/demo",
    );
    const before = refsOf(v);
    const said = refused(runHelper(["start", "demo", "--deps", "none"], { cwd: v }));
    expect(said).toContain("refs/parallel/demo/state (");
    expect(said).toContain(`+ "sh -c 'echo forged'"`);
    expect(said).toContain("then run the command again");
    expect(existsSync(stateDir(v))).toBe(false);
    expect(existsSync(join(f.root, "v-start-demo-a"))).toBe(false);
    expect(refsOf(v)).toBe(before);

    ok(runHelper(["allow", digestIn(said)], { cwd: v }));
    expect(ok(runHelper(["start", "demo", "--deps", "none"], { cwd: v }))).toContain(join(f.root, "v-start-demo-a"));
    expect(readFileSync(join(stateDir(v), "plan.yaml"), "utf8")).toContain("echo forged");
  });
});
