import { lstat, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { RefusedError, type Refusal } from "../core/errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { isFile } from "../fs/exists.js";
import { frozenPlanPath } from "../core/state/paths.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { readState, writeState } from "../feature/store.js";
import { commitOf, listWorktrees } from "../git/repo.js";
import { gitOk } from "../git/run.js";
import { buildExecutionPlan, type ExecutionPlan } from "../core/plan/build.js";
import { planFile } from "../feature/plan-location.js";
import { buildPlan, parsePlanText } from "../core/plan/parse.js";
import { readPlanFile } from "../feature/plan-read.js";
import { quote } from "../core/text/shell.js";
import { findRoles, roleMap } from "../feature/roles.js";
import { localizeState, plannedPaths, readSharedState } from "./check-state.js";
import { stateCommitFiles, type StateFiles } from "./state-commit.js";
import { decideTrust, trustDigest, trustedContent, type TrustDecision, type TrustedContent } from "./trust.js";
import { claimTrust, isAllowed } from "./trust-records.js";

/** The clone a shared state is taken into. */
interface Here {
  mainRoot: string;
  commonDir: string;
  repoName: string;
  /** The branch checked out where the command runs (a plan without `base` starts from it). */
  branch?: string;
}

/** A state commit from elsewhere, checked here and made this clone's: ready to adopt. */
interface CheckedState {
  commit: string;
  files: StateFiles;
  plan: ExecutionPlan;
  /** The state with this clone's own worktree paths and launch records (check-state.ts). */
  state: FeatureState;
  /** How messages name it: `origin's refs/parallel/<slug>/state (<commit>)`. */
  source: string;
}

/**
 * Reads and checks a state commit from elsewhere, whole, before anything is written: refused
 * (exit 4, every problem named) unless its plan builds here, its state agrees with that plan and
 * with what this clone has of the feature, and its tasks' worktrees can be made at this clone's
 * own paths. `remote`: the remote it came from (its remote-tracking branches count as known).
 */
export async function checkStateCommit(here: Here, slug: string, commit: string, options: { source: string; fix: string; remote?: string }): Promise<CheckedState> {
  const { source, fix } = options;
  const refuse = (refusals: Refusal[]) => new RefusedError(refusals.map((r) => ({ ...r, message: `${source}: ${r.message}` })));
  const files = await stateCommitFiles(here.mainRoot, commit);
  if (typeof files === "string") throw refuse([{ code: "shared-state-invalid", message: files, fix }]);
  const shared = await readSharedState(files, slug, await planFacts(here), fix);
  if (Array.isArray(shared)) throw refuse(shared);
  const local = await readState(here.commonDir, slug);
  const paths = plannedPaths(shared.plan, here.mainRoot);
  // The tasks new here: each gets this clone's planned path, which must be free (or its own worktree).
  const fresh = Object.entries(shared.state.phases).flatMap(([key, p]) => Object.keys(p.tasks).filter((id) => local?.phases[key]?.tasks[id] === undefined));
  const worktrees = fresh.length ? new Map((await listWorktrees(here.mainRoot)).map((w) => [w.path, w.branch ?? "(detached HEAD)"])) : new Map<string, string>();
  const occupied = new Map<string, { worktreeOf?: string }>();
  for (const id of fresh) {
    const path = paths.get(id)!;
    if (worktrees.has(path)) occupied.set(path, { worktreeOf: worktrees.get(path)! });
    else if (
      await lstat(path).then(
        () => true,
        () => false,
      )
    )
      occupied.set(path, {});
  }
  const state = localizeState(shared, { mainRoot: here.mainRoot, local, baseKnown: local !== undefined || (await branchKnown(here.mainRoot, shared.state.base, options.remote)), occupied }, fix);
  if (Array.isArray(state)) throw refuse(state);
  return { commit, files, plan: shared.plan, state, source };
}

/** `name` is a local branch, or a remote-tracking one (of `remote`, or of any remote). */
async function branchKnown(cwd: string, name: string, remote: string | undefined): Promise<boolean> {
  if ((await commitOf(`refs/heads/${name}`, cwd)) !== undefined) return true;
  if (remote !== undefined) return (await commitOf(`refs/remotes/${remote}/${name}`, cwd)) !== undefined;
  const tracking = (await gitOk(["for-each-ref", "--format=%(refname)", "refs/remotes/"], cwd)).split("\n");
  return tracking.some((ref) => ref.slice("refs/remotes/".length).replace(/^[^/]+\//, "") === name);
}

/**
 * Whether the checked state may be adopted: its verify commands, prompts and branches
 * (trust.ts) are what this clone already trusts (its frozen plan; for a feature new here, the
 * user's own `.parallel/<slug>/plan.yaml`), or the user allowed their digest.
 */
export async function decideStateTrust(here: Here, slug: string, checked: CheckedState): Promise<TrustDecision> {
  const incoming = trustedContent(checked.plan);
  const [trusted, allowed] = await Promise.all([trustedHere(here, slug, checked.plan), isAllowed(here.commonDir, trustDigest(incoming))]);
  return decideTrust({ incoming, trusted, allowed });
}

/** The refusal of a state whose trusted part changed: the difference, and how to trust exactly that. */
export function untrusted(checked: CheckedState, decision: Extract<TrustDecision, { kind: "ask" }>, rerun: string): Refusal {
  return {
    code: "untrusted-change",
    message: [
      `${checked.source} changes what runs or what the sessions are told; none of it is taken or run until you trust it:`,
      ...decision.changes,
      `  (the whole plan: git show ${checked.commit.slice(0, 12)}:plan.yaml)`,
    ].join("\n"),
    fix: `if you trust exactly this, run claude-parallel allow ${decision.digest} --feature ${quote(checked.state.slug)}, then ${rerun}`,
  };
}

/** What this clone trusts of the feature: its frozen plan, else the user's own plan file; undefined when neither builds. */
async function trustedHere(here: Here, slug: string, incoming: ExecutionPlan): Promise<TrustedContent | undefined> {
  const facts = await planFacts(here);
  const local = await readState(here.commonDir, slug);
  try {
    if (local) {
      const frozen = frozenPlanPath(here.commonDir, slug);
      return trustedContent(buildExecutionPlan(await parsePlanText(await readFile(frozen, "utf8"), frozen), { ...facts, currentBranch: local.base }));
    }
    const path = planFile(here.mainRoot, slug);
    if (!(await isFile(path))) return undefined;
    // Without `base:` a plan starts from the current branch, unless that is one of the feature's
    // own branches (a checkout of its work, as in a CI task job): then the base is the state's.
    const own = [incoming.integrationBranch, ...incoming.phases.flatMap((p) => p.tasks.map((t) => t.branch))];
    const currentBranch = here.branch === undefined || own.includes(here.branch) ? incoming.base : here.branch;
    return trustedContent(await buildPlan(await readPlanFile(path), { ...facts, currentBranch, planFolder: slug }));
  } catch {
    return undefined;
  }
}

/** What building a plan here needs (its base aside). */
const planFacts = async (here: Here) => ({ repoName: here.repoName, roles: roleMap(await findRoles(here.mainRoot)), root: here.mainRoot, gitCommonDir: here.commonDir, home: homedir() });

/**
 * Makes a checked state this clone's state folder: its frozen plan and its state (with this
 * clone's paths). Taken by the user's trust record (`allow`): the record names the feature first,
 * so that cleaning the feature removes it.
 */
export async function adoptState(commonDir: string, checked: CheckedState, trust: Extract<TrustDecision, { kind: "trusted" }>): Promise<void> {
  if (trust.why === "allowed") await claimTrust(commonDir, trust.digest, checked.state.slug);
  await writeFileAtomic(frozenPlanPath(commonDir, checked.state.slug), checked.files.plan);
  await writeState(commonDir, checked.state);
}

/** The fix for a state commit that is refused: where it came from decides what to do. */
export const refusedStateFix = (slug: string, remote?: string) =>
  remote !== undefined
    ? `if it is damaged or not your feature's, ask whoever pushed it, or delete it on the remote: git push ${quote(remote)} ${quote(`:refs/parallel/${slug}/state`)}`
    : `if it is damaged or not your feature's, delete it: git update-ref -d ${quote(`refs/parallel/${slug}/state`)}`;
