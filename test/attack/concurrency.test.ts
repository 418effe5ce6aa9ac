import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ATTACK_SEED, describeRun, phaseMerges, prng, prunableEntries, runAsync, worktreeList, worktreeViolations, type AsyncResult } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

/**
 * Commands of one repository run at the same time. Whatever the interleaving: never exit 1, at
 * most one of them does each piece of work, the others refuse (4, naming the other command) or
 * find it done (0), and the end state is valid.
 */

const SEED = ATTACK_SEED + 20000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function planRepo(name: string, plan = TWO_PHASES(), parent?: string): { repo: string; wt: (id: string) => string } {
  const repo = makeRepo({ name, parent, files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": plan } });
  return { repo, wt: (id) => join(repo, "..", `${name}-demo-${id}`) };
}

/**
 * Phase 1 started (a real `start`) with a commit on a and on b: built once per file, restored by
 * copy for each test that races commands on it (test/helpers/fixture.ts).
 */
const startedAndCommitted = reusableFolder((folder) => {
  const { repo, wt } = planRepo("race", TWO_PHASES(), folder);
  const started = runHelper(["start"], { cwd: repo });
  if (started.code !== 0) throw new Error(`start failed: ${describeRun(started)}`);
  const tips = [commitIn(wt("a"), { "a/x.txt": "a\n" }), commitIn(wt("b"), { "b/x.txt": "b\n" })];
  return { repo, wt, tips };
});

const okOrBusy = (r: AsyncResult) => r.code === 0 || (r.code === 4 && /another .*(running|in progress)|is running|locked/i.test(r.stderr + r.stdout));

function phaseStates(repo: string): Record<number, string> {
  const r = runHelper(["status", "demo", "--json"], { cwd: repo });
  if (r.code !== 0) return { 0: `status exit ${r.code}: ${r.stderr}` };
  const report = JSON.parse(r.stdout) as { phases: Array<{ index: number; state: string }> };
  return Object.fromEntries(report.phases.map((p) => [p.index, p.state]));
}

describe(`two first starts of one feature at once (seed ${SEED})`, () => {
  for (let round = 0; round < 10; round++) {
    const stagger = Math.floor(prng(SEED + round)() * 150);
    it(`round ${round} (seed ${SEED + round}, second start ${stagger} ms later): one does the work, the other is idempotent or refuses with 4`, async () => {
      const { repo, wt } = planRepo(`twin${round}`);
      const [one, two] = await Promise.all([runAsync(["start"], { cwd: repo }), sleep(stagger).then(() => runAsync(["start"], { cwd: repo }))]);
      const context = `round ${round}, seed ${SEED + round}\nfirst: ${describeRun(one)}\nsecond: ${describeRun(two)}`;
      expect([one.code, two.code], context).not.toContain(1);
      expect(okOrBusy(one) && okOrBusy(two), context).toBe(true);
      expect([one.code, two.code], context).toContain(0);
      for (const id of ["a", "b"]) {
        const created = [one, two].filter((r) => new RegExp(`created\\s+feature/demo-${id} `).test(r.stdout)).length;
        expect(created, `${context}\n(${id} created ${created} times)`).toBe(1);
        expect(worktreeViolations(repo, wt(id), `feature/demo-${id}`, { clean: true }), context).toEqual([]);
      }
      expect(prunableEntries(repo), context).toEqual([]);
      expect(() => JSON.parse(readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8")), context).not.toThrow();
      expect(phaseStates(repo), context).toEqual({ 1: "started", 2: "not started" });
      // And a third start afterwards finds everything done.
      expect(runHelper(["start"], { cwd: repo }).code).toBe(0);
    });
  }
});

describe(`start racing the sync of phase 1 (seed ${SEED + 100})`, () => {
  const cases: Array<{ args: string[]; label: string }> = [
    { args: ["start"], label: "a re-run of `start` (phase 1)" },
    { args: ["start", "--phase", "2"], label: "`start --phase 2`" },
  ];
  for (const [k, c] of cases.entries()) {
    for (let round = 0; round < 3; round++) {
      const seed = SEED + 100 + k * 10 + round;
      const stagger = Math.floor(prng(seed)() * 1500);
      it(`${c.label} ${stagger} ms after the sync starts (seed ${seed}): phase 1 stays recorded as synced`, async () => {
        const { repo, wt } = startedAndCommitted();
        const [raced, start] = await Promise.all([runAsync(["sync"], { cwd: repo }), sleep(stagger).then(() => runAsync(c.args, { cwd: repo }))]);
        let context = `seed ${seed}\nsync: ${describeRun(raced)}\nstart: ${describeRun(start)}`;
        expect([raced.code, start.code], context).not.toContain(1);
        expect(okOrBusy(raced), context).toBe(true);
        // On a slow machine the start may take the lock first: the sync then refuses, and is run again.
        const sync = raced.code === 0 ? raced : await runAsync(["sync"], { cwd: repo });
        context += `\nsync after the start: ${describeRun(sync)}`;
        expect(sync.code, context).toBe(0);
        expect(phaseMerges(repo, "feature/demo", 1), context).toHaveLength(2);
        // The lost update: a start that read the state before the sync recorded it, and wrote it after.
        expect(phaseStates(repo)[1], context).toBe("synced");
        // Phase 1 named: a plain sync would now target phase 2 (in progress, nothing committed yet).
        const again = runHelper(["sync", "--phase", "1"], { cwd: repo });
        expect(again.code, `${context}\nsync again: ${describeRun(again)}`).toBe(0);
        expect(phaseStates(repo), context).toEqual({ 1: "synced", 2: "started" });
        expect(worktreeViolations(repo, wt("c"), "feature/demo-c"), context).toEqual([]);
        expect(phaseMerges(repo, "feature/demo", 1), context).toHaveLength(2);
      });
    }
  }
});

describe(`three syncs at once after a stale lock (seed ${SEED + 200})`, () => {
  for (let round = 0; round < 3; round++) {
    const rng = prng(SEED + 200 + round);
    const staggers = [0, Math.floor(rng() * 300), Math.floor(rng() * 300)];
    it(`round ${round} (seed ${SEED + 200 + round}, staggers ${staggers.join("/")} ms): at most one merges, the others refuse or find it done`, async () => {
      const { repo, tips } = startedAndCommitted();
      // A sync killed while it holds the lock: the lock stays, its process is gone.
      const crashed = runHelper(["sync"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-preflight" } });
      expect(crashed.code).toBeNull();
      expect(readFileSync(join(repo, ".git/parallel/.locks/demo.lock"), "utf8")).toContain("pid");
      const runs = await Promise.all(staggers.map((ms) => sleep(ms).then(() => runAsync(["sync", "--no-next"], { cwd: repo }))));
      const context = `seed ${SEED + 200 + round}\n${runs.map((r, i) => `sync ${i}: ${describeRun(r)}`).join("\n")}`;
      expect(
        runs.map((r) => r.code),
        context,
      ).not.toContain(1);
      for (const r of runs) expect(okOrBusy(r) || /already synced/.test(r.stdout), context).toBe(true);
      expect(phaseMerges(repo, "feature/demo", 1), context).toHaveLength(2);
      for (const tip of tips) expect(git(repo, "merge-base", "--is-ancestor", tip, "feature/demo") === "", context).toBe(true);
      expect(phaseStates(repo)[1], context).toBe("synced");
    });
  }
});

describe("syncs of features `a` and `a-b` in one repository at once", () => {
  const plan = (slug: string, ids: [string, string], wait: string) =>
    [
      "version: 1",
      `feature: Feature ${slug}`,
      // Waits, then checks that its own worktree is still there.
      `verify: ${JSON.stringify(`${wait} && test -f README.md && git rev-parse --verify HEAD`)}`,
      "tasks:",
      `  - {id: ${ids[0]}, title: One, owns: [${ids[0]}/]}`,
      `  - {id: ${ids[1]}, title: Two, owns: [${ids[1]}/]}`,
      "",
    ].join("\n");

  it("neither removes the other's verify worktree", async () => {
    const tmp = tempDir("attack-tmp-");
    // a-b's verify holds its verify worktree until the test says a's sync has ended (bounded:
    // at most 1,200 polls), so a's whole sync, its clean-up included, runs beside it.
    const released = join(tmp, "a-sync-ended");
    const holdUntilReleased = `i=0; while [ ! -e ${released} ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; true`;
    const repo = makeRepo({
      name: "pair",
      files: { "README.md": "# pair\n", ".parallel/a/plan.yaml": plan("a", ["p", "q"], "sleep 1"), ".parallel/a-b/plan.yaml": plan("a-b", ["r", "s"], holdUntilReleased) },
    });
    for (const slug of ["a", "a-b"]) expect(runHelper(["start", slug], { cwd: repo }).stderr).toBe("");
    const wt = (slug: string, id: string) => join(repo, "..", `pair-${slug}-${id}`);
    for (const [slug, id] of [
      ["a", "p"],
      ["a", "q"],
      ["a-b", "r"],
      ["a-b", "s"],
    ] as const)
      commitIn(wt(slug, id), { [`${id}/x.txt`]: `${id}\n` });
    // a-b's verify runs first; a's sync starts once a-b's verify worktree exists (or a-b ended: a failure).
    let abEnded = false;
    const ab = runAsync(["sync", "a-b"], { cwd: repo, env: { TMPDIR: tmp } }).finally(() => (abEnded = true));
    const abVerifyTree = () => worktreeList(repo).find((w) => /\/claude-parallel-verify-[0-9a-f]+-a-b$/.test(w.path));
    await waitUntil(() => abEnded || abVerifyTree() !== undefined, 150_000);
    const seen = abVerifyTree();
    const ra = await runAsync(["sync", "a"], { cwd: repo, env: { TMPDIR: tmp } });
    const stillThere = abVerifyTree();
    const intact = stillThere !== undefined && existsSync(join(stillThere.path, "README.md"));
    writeFileSync(released, "");
    const rab = await ab;
    const context = `a-b's verify worktree seen: ${seen?.path}, still there after a's sync: ${stillThere?.path} (checked out: ${intact})\nsync a-b: ${describeRun(rab)}\nsync a: ${describeRun(ra)}`;
    expect(seen, context).toBeDefined();
    expect(ra.code, context).toBe(0);
    // a's sync, clean-up included, left a-b's verify worktree alone.
    expect(stillThere?.path, context).toBe(seen?.path);
    expect(intact, context).toBe(true);
    expect(rab.code, context).toBe(0);
    expect(phaseMerges(repo, "feature/a", 1), context).toHaveLength(2);
    expect(phaseMerges(repo, "feature/a-b", 1), context).toHaveLength(2);
  });
});
