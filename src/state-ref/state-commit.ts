import { RefusedError, StateError } from "../core/errors.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { stateRef, statePath } from "../core/state/paths.js";
import { readFrozenPlan } from "../feature/resolve.js";
import { repairStateFix } from "../feature/store.js";
import { readRegular, UnsafeFileError } from "../fs/read-regular.js";
import { commitOf } from "../git/repo.js";
import { git, gitOk, nulFields } from "../git/run.js";
import { MAX_PLAN_BYTES } from "../core/plan/size-limit.js";

/** The files a state commit holds, by their names in its tree. */
export interface StateFiles {
  plan: string;
  state: string;
}

const PLAN = "plan.yaml";
const STATE = "state.json";

/** The feature's state folder as files, or undefined when it has not started here. */
export async function readLocalStateFiles(commonDir: string, slug: string): Promise<StateFiles | undefined> {
  const path = statePath(commonDir, slug);
  const state = await readRegular(path, MAX_BYTES.featureState).catch((error) => {
    throw new StateError(path, error instanceof UnsafeFileError ? error.problem : `cannot be read (${(error as NodeJS.ErrnoException).code})`, repairStateFix(slug));
  });
  if (state === undefined) return undefined;
  return { plan: await readFrozenPlan(commonDir, slug), state: state.toString("utf8") };
}

/** Writes the two blobs and their tree (objects only: no ref moves). */
async function treeOf(cwd: string, files: StateFiles): Promise<string> {
  const [plan, state] = await Promise.all([gitOk(["hash-object", "-w", "--stdin"], cwd, { input: files.plan }), gitOk(["hash-object", "-w", "--stdin"], cwd, { input: files.state })]);
  return gitOk(["mktree"], cwd, { input: `100644 blob ${plan}\t${PLAN}\n100644 blob ${state}\t${STATE}\n` });
}

/** The tree of a commit. */
export const treeOfCommit = (cwd: string, commit: string) => gitOk(["rev-parse", "--verify", "--end-of-options", `${commit}^{tree}`], cwd);

/** A state.json larger than this is not one (a plan is bounded by MAX_PLAN_BYTES). */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

/**
 * The files of a state commit, read only once its tree is seen to hold exactly `plan.yaml` and
 * `state.json`, each a file within its bound (a state commit may come from anywhere); or what is
 * wrong with it.
 */
export async function stateCommitFiles(cwd: string, commit: string): Promise<StateFiles | string> {
  const kind = await git(["cat-file", "-t", commit], cwd);
  if (kind.exitCode !== 0 || kind.stdout !== "commit") return `${commit.slice(0, 12)} is not a commit`;
  const tree = await git(["ls-tree", "-l", "-z", commit], cwd);
  if (tree.exitCode !== 0) return `the tree of ${commit.slice(0, 12)} cannot be read`;
  const entries = new Map<string, { mode: string; type: string; oid: string; size: number }>();
  for (const line of nulFields(tree.stdout)) {
    const m = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t(.*)$/s.exec(line);
    if (m) entries.set(m[5]!, { mode: m[1]!, type: m[2]!, oid: m[3]!, size: Number(m[4]) });
  }
  const bounds: Record<string, number> = { [PLAN]: MAX_PLAN_BYTES, [STATE]: MAX_STATE_BYTES };
  const extra = [...entries.keys()].filter((name) => !(name in bounds));
  if (extra.length)
    return `commit ${commit.slice(0, 12)} holds more than ${PLAN} and ${STATE} (${extra
      .slice(0, 3)
      .map((n) => JSON.stringify(n))
      .join(", ")}${extra.length > 3 ? ", ..." : ""})`;
  for (const [name, max] of Object.entries(bounds)) {
    const e = entries.get(name);
    if (e?.type !== "blob" || (e.mode !== "100644" && e.mode !== "100755")) return `commit ${commit.slice(0, 12)} does not hold ${PLAN} and ${STATE} as files`;
    if (!(e.size <= max)) return `its ${name} is ${e.size} bytes; at most ${max} are read`;
  }
  const [plan, state] = await Promise.all([gitOk(["cat-file", "blob", entries.get(PLAN)!.oid], cwd), gitOk(["cat-file", "blob", entries.get(STATE)!.oid], cwd)]);
  // git() trims one final newline; the files end with one.
  return { plan: plan + "\n", state: state + "\n" };
}

/** The files of this clone's state ref's commit; a commit that is not a state commit is a StateError. */
export async function readStateCommit(cwd: string, commit: string, slug: string): Promise<StateFiles> {
  const files = await stateCommitFiles(cwd, commit);
  if (typeof files === "string") throw new StateError(stateRef(slug), files, `delete the ref (git update-ref -d ${stateRef(slug)}) and pull again`);
  return files;
}

/**
 * The commit that records the local state folder: the state ref's own commit when the shared state
 * has not changed since (`sameSharedState`: adopting a pulled state rewrites only what belongs to
 * this clone, its worktrees' paths, which a push must not turn into a new commit), else a new
 * commit on top of it (an object only: no ref moves). Undefined when there is no local state and
 * no state ref.
 */
export async function localStateCommit(cwd: string, commonDir: string, slug: string, message: string, state?: string): Promise<{ commit: string; parent?: string } | undefined> {
  const read = await readLocalStateFiles(commonDir, slug);
  // `state`: the state file's text as it is about to be written (push records the sessions in it).
  const files = read && state !== undefined ? { ...read, state } : read;
  const parent = await commitOf(stateRef(slug), cwd);
  if (!files) return parent === undefined ? undefined : { commit: parent, parent };
  if (parent !== undefined) {
    const recorded = await stateCommitFiles(cwd, parent);
    if (typeof recorded !== "string" && sameSharedState(files, recorded)) return { commit: parent, parent };
  }
  const tree = await treeOf(cwd, files);
  const commit = await gitOk(["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message], cwd);
  return { commit, ...(parent !== undefined && { parent }) };
}

/** Moves the state ref from `parent` to `commit` with a compare-and-swap (nothing to do when they are the same). */
export async function recordStateCommit(cwd: string, slug: string, next: { commit: string; parent?: string }, message: string): Promise<void> {
  if (next.commit === next.parent) return;
  const cas = await git(["update-ref", "-m", `claude-parallel: ${message}`, stateRef(slug), next.commit, next.parent ?? ""], cwd);
  if (cas.exitCode !== 0) {
    throw new RefusedError([{ code: "ref-moved", message: `${stateRef(slug)} moved while the state was being recorded`, fix: "run the command again" }]);
  }
}

/**
 * Whether two states are the same feature state, leaving out what belongs to one machine (where
 * each worktree is and whether it was made and prepared there, how the phase's sessions were
 * launched, where the plan file was): adopting a state never takes those (check-state.ts).
 */
export function sameSharedState(a: StateFiles, b: StateFiles): boolean {
  return a.plan === b.plan && shared(a.state) === shared(b.state);
}

function shared(stateText: string): string {
  try {
    const state = JSON.parse(stateText) as { planSource?: unknown; phases?: Record<string, Record<string, unknown> & { tasks?: Record<string, Record<string, unknown>> }> };
    delete state.planSource;
    for (const phase of Object.values(state.phases ?? {})) {
      for (const key of ["launch", "permissionMode", "model", "prepared"]) delete phase[key];
      for (const task of Object.values(phase.tasks ?? {})) {
        delete task.worktree;
        delete task.made;
        delete task.prepared;
      }
    }
    return JSON.stringify(sortedKeys(state));
  } catch {
    return stateText;
  }
}

/** `value` with every object's keys in order: adopting a state writes its keys in another order. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
  );
}
