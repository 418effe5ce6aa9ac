import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runHelper } from "../helpers/cli.js";
import { commitIn } from "../helpers/feature.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import {
  commitsOn,
  fileList,
  gitTry,
  phaseMerges,
  prunableEntries,
  reachableFromRefs,
  snapshotCheckout,
  snapshotViolations,
  worktreeList,
  worktreeViolations,
  type CheckoutSnapshot,
} from "../helpers/attack.js";

/**
 * Repositories the attack suite kills commands in. Each carries the user's own things that must
 * survive: an uncommitted edit, an untracked file and ignored files in the main checkout, an
 * installed node_modules (with its committed package-lock.json), and a worktree the user made
 * on a branch of their own, with an uncommitted edit.
 */

export const SLUG = "demo";

/** Phase 1: a, b, d in parallel; phase 2: c (needs a). */
export const PLAN = (verify?: string, base?: string) =>
  [
    "version: 1",
    "feature: Attack demo",
    ...(verify ? [`verify: ${JSON.stringify(verify)}`] : []),
    ...(base ? [`base: ${base}`] : []),
    "tasks:",
    "  - {id: a, title: Part A, owns: [a/]}",
    "  - {id: b, title: Part B, owns: [b/]}",
    "  - {id: d, title: Part D, owns: [d/]}",
    "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
    "",
  ].join("\n");

export const PHASE1 = ["a", "b", "d"];

const PACKAGE_JSON = JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: {} }, null, 2) + "\n";
const LOCK = JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "app", version: "1.0.0" } } }, null, 2) + "\n";

/** A fake installed tree: npm's completion marker and `packages` x `files` small files. */
export function installFakeNodeModules(root: string, packages: number, files: number): void {
  const nm = join(root, "node_modules");
  mkdirSync(nm, { recursive: true });
  for (let p = 0; p < packages; p++) {
    const dir = join(nm, `pkg-${p}`);
    mkdirSync(join(dir, "lib"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `pkg-${p}`, version: "1.0.0" }) + "\n");
    for (let f = 0; f < files; f++) writeFileSync(join(dir, "lib", `f${f}.js`), `module.exports = ${p * 1000 + f};\n`.repeat(20));
  }
  // npm writes its hidden lockfile last, when the install is complete.
  writeFileSync(join(nm, ".package-lock.json"), LOCK);
}

export interface AttackRepo {
  repo: string;
  /** A worktree the user made on branch user/foreign, with an uncommitted edit. */
  foreign: string;
  /** Private TMPDIR for the helper, so litter (verify trees) can be attributed. */
  tmp: string;
  wt: (id: string) => string;
  /** The user's files in the main checkout, to snapshot. */
  userFiles: string[];
  mainSnapshot: () => CheckoutSnapshot;
  foreignSnapshot: () => CheckoutSnapshot;
  nodeModulesList: string[];
}

export const USER_FILES = ["README.md", "scratch.txt", ".env", "me.local", "node_modules/.package-lock.json"];

/**
 * An attack repository named `name`, with its foreign worktree and private TMPDIR beside it: in a
 * temp folder, or all inside `parent`. With `base`, the plan merges into that branch, made at the
 * first commit and checked out nowhere.
 */
export function attackRepo(name: string, options: { verify?: string; packages?: number; files?: number; parent?: string; base?: string } = {}): AttackRepo {
  const repo = makeRepo({
    name,
    parent: options.parent,
    files: {
      "README.md": "# demo\n",
      "shared.txt": "one\ntwo\nthree\n",
      ".gitignore": "node_modules/\n.env\n*.local\n",
      ".worktreeinclude": ".env\n",
      "package.json": PACKAGE_JSON,
      "package-lock.json": LOCK,
      ".parallel/demo/plan.yaml": PLAN(options.verify, options.base),
    },
  });
  // A base branch checked out nowhere: finish merges into it in memory, and the user's checkout stays as it is.
  if (options.base) git(repo, "branch", options.base);
  installFakeNodeModules(repo, options.packages ?? 12, options.files ?? 3);
  // The user's own state in the main checkout.
  writeFiles(repo, { "README.md": "# demo\nmy uncommitted edit\n", "scratch.txt": "untracked, mine\n", ".env": "SECRET=main\n", "me.local": "ignored, mine\n" });
  const foreign = join(repo, "..", `${name}-foreign`);
  git(repo, "worktree", "add", "-q", "-b", "user/foreign", foreign);
  writeFiles(foreign, { "shared.txt": "one\nmine, uncommitted\nthree\n", "foreign.local": "ignored in foreign\n" });
  const tmp = options.parent ? join(options.parent, "tmp") : tempDir("attack-tmp-");
  mkdirSync(tmp, { recursive: true });
  const userFiles = USER_FILES;
  return {
    repo,
    foreign,
    tmp,
    wt: (id) => join(repo, "..", `${name}-${SLUG}-${id}`),
    userFiles,
    mainSnapshot: () => snapshotCheckout(repo, userFiles),
    foreignSnapshot: () => snapshotCheckout(foreign, ["shared.txt", "foreign.local"]),
    nodeModulesList: fileList(join(repo, "node_modules")),
  };
}

/** node_modules as the worktree holds it, minus the stamp we are allowed to add. */
export function copiedModules(wt: string): string[] {
  return fileList(join(wt, "node_modules")).filter((f) => f !== ".claude-parallel.json");
}

/** Invariants after a phase was started (or re-started) for `ids`. */
export function startedViolations(r: AttackRepo, ids: string[], before: { main: CheckoutSnapshot; foreign: CheckoutSnapshot }): string[] {
  const v: string[] = [];
  for (const id of ids) {
    const wt = r.wt(id);
    v.push(...worktreeViolations(r.repo, wt, `feature/${SLUG}-${id}`, { clean: true }));
    const modules = copiedModules(wt);
    if (JSON.stringify(modules) !== JSON.stringify(r.nodeModulesList)) {
      const missing = r.nodeModulesList.filter((f) => !modules.includes(f));
      v.push(`node_modules of ${id} differs from the source: ${missing.length} of ${r.nodeModulesList.length} files missing (e.g. ${missing.slice(0, 3).join(", ")}), ${modules.length} present`);
    }
    try {
      if (readFileSync(join(wt, ".env"), "utf8") !== "SECRET=main\n") v.push(`.env of ${id} has the wrong content`);
    } catch {
      v.push(`.env of ${id} was not copied`);
    }
    try {
      readFileSync(join(wt, ".claude-parallel/brief.md"), "utf8");
    } catch {
      v.push(`brief of ${id} is missing`);
    }
  }
  const prunable = prunableEntries(r.repo);
  if (prunable.length) v.push(`prunable worktrees: ${prunable.join("; ")}`);
  v.push(...snapshotViolations("main checkout", before.main, r.mainSnapshot()));
  v.push(...snapshotViolations("foreign worktree", before.foreign, r.foreignSnapshot()));
  if (JSON.stringify(fileList(join(r.repo, "node_modules"))) !== JSON.stringify(r.nodeModulesList)) v.push("the main checkout's node_modules changed");
  return v;
}

/** A phase 1 ready to sync: commits on a (two), b and d; an ignored notes.local in a's worktree. */
export function readyToSync(name: string, options: { verify?: string; packages?: number; files?: number } = {}) {
  const r = attackRepo(name, options);
  git(r.repo, "status"); // refresh the index, so snapshots compare stat-clean
  return r;
}

export function commitPhase1(r: AttackRepo): Record<string, string> {
  commitIn(r.wt("a"), { "a/x.txt": "a\n" }, "A one");
  const tips: Record<string, string> = {
    a: commitIn(r.wt("a"), { "a/y.txt": "a2\n" }, "A two"),
    b: commitIn(r.wt("b"), { "b/x.txt": "b\n" }, "B"),
    d: commitIn(r.wt("d"), { "d/x.txt": "d\n" }, "D"),
  };
  // Ignored and uncommitted: the user's notes in a task worktree.
  writeFileSync(join(r.wt("a"), "notes.local"), "my notes in a\n");
  return tips;
}

/** Invariants after a sync of phase 1 that exited 0. */
export function syncedViolations(r: AttackRepo, tips: Record<string, string>, everOnTasks: string[], before: { main: CheckoutSnapshot; foreign: CheckoutSnapshot }): string[] {
  const v: string[] = [];
  const all = reachableFromRefs(r.repo);
  const lost = everOnTasks.filter((c) => !all.has(c));
  if (lost.length) v.push(`commits once on a task branch are reachable from no ref: ${lost.join(", ")}`);
  for (const [id, tip] of Object.entries(tips)) {
    if (gitTry(r.repo, ["merge-base", "--is-ancestor", tip, `refs/heads/feature/${SLUG}`]).code !== 0) v.push(`feature/${SLUG} lacks ${id}'s tip ${tip}`);
  }
  const merges = phaseMerges(r.repo, `feature/${SLUG}`, 1);
  if (merges.length !== PHASE1.length) v.push(`feature/${SLUG} has ${merges.length} phase-1 merges, not ${PHASE1.length}: ${merges.join(" | ")}`);
  // Phase 2 started from the merged result, with complete dependencies.
  v.push(...worktreeViolations(r.repo, r.wt("c"), `feature/${SLUG}-c`, { clean: true }));
  if (gitTry(r.wt("c"), ["rev-parse", "HEAD"]).stdout !== gitTry(r.repo, ["rev-parse", `feature/${SLUG}`]).stdout) v.push("c does not start at the integration branch's tip");
  const modules = copiedModules(r.wt("c"));
  if (JSON.stringify(modules) !== JSON.stringify(r.nodeModulesList)) v.push(`node_modules of c is incomplete: ${modules.length} of ${r.nodeModulesList.length} files`);
  // Phase 1's worktrees: gone, or still valid.
  for (const id of PHASE1) {
    const wt = r.wt(id);
    const entry = worktreeList(r.repo).find((w) => w.path === wt);
    if (entry) v.push(...worktreeViolations(r.repo, wt, `feature/${SLUG}-${id}`));
  }
  const prunable = prunableEntries(r.repo);
  if (prunable.length) v.push(`prunable worktrees: ${prunable.join("; ")}`);
  const verifyTrees = worktreeList(r.repo).filter((w) => w.path.includes("claude-parallel-verify"));
  if (verifyTrees.length) v.push(`verify worktrees left registered: ${verifyTrees.map((w) => w.path).join(", ")}`);
  v.push(...snapshotViolations("main checkout", before.main, r.mainSnapshot()));
  v.push(...snapshotViolations("foreign worktree", before.foreign, r.foreignSnapshot()));
  const status = gitTry(r.repo, ["for-each-ref", "--format=%(refname)", `refs/parallel/${SLUG}/phase-1/`])
    .stdout.split("\n")
    .filter(Boolean);
  if (status.length !== PHASE1.length) v.push(`backup refs of phase 1: ${status.length}, not ${PHASE1.length}`);
  return v;
}

/**
 * The ignored notes.local of a's worktree: still there, or named by the line the sync says before
 * it deletes a worktree's ignored files (docs/workflow.md: ignored files do not keep a worktree).
 */
export function notesViolations(r: AttackRepo, outputs: string): string[] {
  const inPlace = join(r.wt("a"), "notes.local");
  try {
    if (readFileSync(inPlace, "utf8") === "my notes in a\n") return [];
  } catch {
    // deleted: the output must have said so
  }
  if (outputs.split("\n").some((line) => line.includes(`removing the worktree of a (${r.wt("a")}), deleting 1 ignored file (notes.local)`))) return [];
  return [`the ignored, uncommitted ${inPlace} is gone, and no line of the output named it`];
}

export { commitsOn };

/** Every ref of the feature: its branches and everything under refs/parallel/demo/. */
export const featureRefs = (repo: string) =>
  gitTry(repo, ["for-each-ref", "--format=%(refname)", `refs/heads/feature/${SLUG}`, `refs/heads/feature/${SLUG}-*`, `refs/parallel/${SLUG}/`])
    .stdout.split("\n")
    .filter(Boolean);

/**
 * A feature merging into `trunk` (checked out nowhere) with both phases worked on (one commit per
 * task, no notes of the user's in its worktrees) and synced with `--keep-worktrees`: four task
 * worktrees with their dependencies remain, for finish and clean to meet. Also what was ever on
 * the task branches, and the user's things before.
 */
export function syncedAttackRepo(name: string, parent: string) {
  const r = attackRepo(name, { parent, base: "trunk" });
  const helper = (args: string[]) => {
    const run = runHelper(args, { cwd: r.repo, env: { TMPDIR: r.tmp } });
    if (run.code !== 0) throw new Error(`${args.join(" ")} failed (${run.code}): ${run.stdout}${run.stderr}`);
  };
  helper(["start"]);
  for (const id of PHASE1) commitIn(r.wt(id), { [`${id}/x.txt`]: `${id}\n` }, `Work of ${id}`);
  helper(["sync", "--keep-worktrees"]);
  commitIn(r.wt("c"), { "c/x.txt": "c\n" }, "Work of c");
  helper(["sync", "--keep-worktrees"]);
  const everOnTasks = commitsOn(
    r.repo,
    [...PHASE1, "c"].map((id) => `feature/${SLUG}-${id}`),
  );
  return { ...r, everOnTasks, before: { main: r.mainSnapshot(), foreign: r.foreignSnapshot() } };
}

/** The user's things (main checkout, its node_modules, the foreign worktree) as they were, and every commit once on a task branch still reachable. */
export function untouchedViolations(r: AttackRepo, everOnTasks: string[], before: { main: CheckoutSnapshot; foreign: CheckoutSnapshot }): string[] {
  const all = reachableFromRefs(r.repo);
  const lost = everOnTasks.filter((c) => !all.has(c));
  const v = lost.length ? [`commits once on a task branch are reachable from no ref: ${lost.join(", ")}`] : [];
  v.push(...snapshotViolations("main checkout", before.main, r.mainSnapshot()));
  v.push(...snapshotViolations("foreign worktree", before.foreign, r.foreignSnapshot()));
  if (JSON.stringify(fileList(join(r.repo, "node_modules"))) !== JSON.stringify(r.nodeModulesList)) v.push("the main checkout's node_modules changed");
  const prunable = prunableEntries(r.repo);
  if (prunable.length) v.push(`prunable worktrees: ${prunable.join("; ")}`);
  return v;
}

/** `trunk` holds every task's work, merged once: the integration branch has one merge per task, and trunk one merge of it. */
export function finishedViolations(r: AttackRepo): string[] {
  const v: string[] = [];
  for (const id of [...PHASE1, "c"]) {
    if (gitTry(r.repo, ["cat-file", "-e", `refs/heads/trunk:${id}/x.txt`]).code !== 0) v.push(`trunk lacks the work of ${id}`);
  }
  const merges = (ref: string) => gitTry(r.repo, ["log", "--merges", "--first-parent", "--format=%s", ref]).stdout.split("\n").filter(Boolean);
  const intoTrunk = merges("refs/heads/trunk").filter((s) => s.startsWith(`Merge feature/${SLUG}:`));
  if (intoTrunk.length !== 1) v.push(`trunk has ${intoTrunk.length} merges of feature/${SLUG}, not 1`);
  const last = gitTry(r.repo, ["rev-parse", "refs/heads/trunk^2"]).stdout;
  if (last) {
    const tasks = gitTry(r.repo, ["log", "--merges", "--first-parent", "--format=%s", last])
      .stdout.split("\n")
      .filter((s) => /\[phase \d+\]$/.test(s));
    if (tasks.length !== PHASE1.length + 1) v.push(`the integration branch merged into trunk has ${tasks.length} task merges, not ${PHASE1.length + 1}: ${tasks.join(" | ")}`);
  }
  return v;
}
