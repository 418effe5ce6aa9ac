import type { Decision, Refusal } from "../errors.js";
import type { FeatureState } from "../state/state-schema.js";
import { quote, sh } from "../text/shell.js";
import { describeCourse } from "../render/worktree-course.js";
import type { RecordedWorktree, WorktreeCourse } from "../state/worktree-course.js";

/** What `finish` knows before it decides: read from the state, git, and with --pr the remote and gh. */
export interface FinishFacts {
  slug: string;
  base: string;
  integrationBranch: string;
  /** The time a finish is recorded with. */
  now: string;
  /** When the feature was finished and cleaned up (its state is gone). */
  finishedAndCleaned?: string;
  /** Its state exists: it was started. */
  started: boolean;
  /** Recorded once base held the feature. */
  finishedAt?: string;
  /** The phases not synced yet. */
  unsynced: number[];
  /** The backstop's refusals: the integration branch or a backup ref is not where our last move left it. */
  movedRefs: Refusal[];
  /** What the merge (or the pull request) needs: gathered only when nothing above stands in the way. */
  target?: MergeFacts | PullRequestFacts;
}

export interface MergeFacts {
  kind: "merge";
  integrationTip?: string;
  baseTip?: string;
  /** base holds the integration branch's tip already. */
  merged: boolean;
  /** base's checkout, where git still notes our merge as under way (MERGE_HEAD) although base holds it. */
  leftMergeNote?: string;
  /** The merge made in memory when base does not hold it yet: its tree, and the paths that conflict. */
  preview?: { tree: string; conflicts: string[] };
  /** The command that merges base into the integration branch by hand, with the plan's merge settings. */
  mergeByHand: string;
  /** The merge commit's message, and the plan's `-X` options for `git merge`. */
  message: string;
  strategy: string[];
  /** The worktree where base is checked out: its uncommitted tracked changes, and whether a merge of ours may be half way there (its journal, or git's MERGE_HEAD). */
  checkout?: { path: string; dirty: string[]; interrupted: boolean; mergeNote: boolean; otherMerge: boolean };
  /** This finish has set that checkout back already: it is not set back twice. */
  repaired: boolean;
  /** The task worktrees, and what settling what a killed command left of each would do. */
  leftovers: Array<{ worktree: RecordedWorktree; course: WorktreeCourse }>;
}

export interface PullRequestFacts {
  kind: "pr";
  tip?: string;
  /** Where to push: base's upstream remote, else origin; undefined when there is neither (`remotes`: those there are). */
  remote?: string;
  remotes: string[];
  /** The integration branch's commit on that remote, when it has the branch. */
  remoteTip?: string;
  gh: "ready" | "missing" | "logged-out";
  /** The integration branch's pull request into base, in any state (an open one, else the newest), as gh reports it. */
  pullRequest?: { url: string; state: "open" | "merged" | "closed"; head: string };
  title: string;
  body: string;
}

export type FinishAction =
  | { kind: "say"; text: string }
  /** Forget git's note (MERGE_HEAD) of our merge in base's checkout, which a finish killed after the merge commit left. */
  | { kind: "forget-merge-note"; path: string }
  /** Set back what a finish killed half way left in base's checkout (and git's note of our merge under way, `forgetMergeNote`), then decide again. */
  | { kind: "set-back-checkout"; path: string; from: string; to: string; integrationTip: string; forgetMergeNote: boolean }
  /** A real `git merge --no-ff` in base's clean checkout, moving its files from `from` to the tree `to`. */
  | { kind: "merge-in-checkout"; path: string; from: string; to: string; integrationTip: string; message: string; strategy: string[] }
  /** base checked out nowhere: a merge commit of `tree`, published with a compare-and-swap from `base`. */
  | { kind: "merge-in-memory"; tree: string; base: string; integrationTip: string; message: string }
  | { kind: "record-finished"; at: string }
  | { kind: "settle-leftover"; worktree: RecordedWorktree; course: WorktreeCourse }
  | { kind: "push"; remote: string; tip: string }
  | { kind: "open-pull-request"; title: string; body: string }
  /** gh cannot open it here: the commands that do, with the body in a file. */
  | { kind: "print-pull-request-commands"; remote: string; title: string; body: string; gh: "missing" | "logged-out" };

/** What applying a finish works on: the repository, and the feature's state (recorded as finished; none once cleaned). */
export interface FinishPlace {
  mainRoot: string;
  commonDir: string;
  slug: string;
  base: string;
  integrationBranch: string;
  state: FeatureState | undefined;
}

const refuse = (refusal: Refusal): Decision<FinishAction> => ({ refusals: [refusal] });

/**
 * What `finish` does, or why it must not touch anything. Pure: once every phase is synced and the
 * feature's refs are where our last move left them, the integration branch is merged into base
 * (in base's checkout, or in memory where base is checked out nowhere) and the feature recorded
 * as finished; with --pr it is pushed and a pull request opened instead.
 */
export function decideFinish(f: FinishFacts): Decision<FinishAction> {
  if (f.finishedAndCleaned !== undefined) {
    return {
      actions: [say(`${f.slug} was finished (${f.finishedAndCleaned}) and cleaned up: its work is in ${f.base}. Nothing to do. To run this plan again as a new feature, give it another slug.`)],
    };
  }
  if (!f.started) return refuse({ code: "feature-not-started", message: `feature ${f.slug} has not started`, fix: `run claude-parallel start ${quote(f.slug)}` });
  if (f.unsynced.length) return refuse({ code: "phase-not-synced", message: `phase ${f.unsynced[0]} of ${f.slug} is not synced yet`, fix: "sync every phase first (/parallel-sync)" });
  // Only what came through our merges reaches base: an integration branch moved otherwise is refused.
  if (f.movedRefs.length) return { refusals: f.movedRefs };
  if (f.target === undefined) throw new Error("decideFinish: the merge's facts were not gathered");
  return f.target.kind === "pr" ? decidePullRequest(f, f.target) : decideMerge(f, f.target);
}

function decideMerge(f: FinishFacts, m: MergeFacts): Decision<FinishAction> {
  const { integrationTip, baseTip } = m;
  if (integrationTip === undefined || baseTip === undefined) {
    return refuse({
      code: "branch-missing",
      message: `branch \`${integrationTip === undefined ? f.integrationBranch : f.base}\` is missing`,
      fix: "restore it (git reflog, refs/parallel/) and finish again",
    });
  }
  const record: FinishAction[] = f.finishedAt === undefined ? [{ kind: "record-finished", at: f.now }] : [];
  // What killed commands left of the task worktrees is brought to an end; working worktrees are clean's to remove.
  const settle: FinishAction[] = m.leftovers.filter(({ course }) => !["gone", "working", "not-ours"].includes(course.kind)).map((l) => ({ kind: "settle-leftover", ...l }));
  if (m.merged) {
    const forget: FinishAction[] = m.leftMergeNote !== undefined ? [{ kind: "forget-merge-note", path: m.leftMergeNote }] : [];
    return { actions: [say(`${f.integrationBranch} is already merged into ${f.base}.`), ...forget, ...record, ...settle] };
  }
  if (m.preview === undefined) throw new Error("decideFinish: the merge was not previewed");
  if (m.preview.conflicts.length) {
    return refuse({
      code: "base-conflict",
      message: `${f.base} changed since the feature started, and merging ${f.integrationBranch} into it conflicts in ${m.preview.conflicts.join(", ")}`,
      fix: `in a checkout of ${f.integrationBranch}, run \`${m.mergeByHand}\`, resolve, commit, accept that merge at a terminal (claude-parallel accept <its commit> ${quote(f.slug)}), and finish again`,
    });
  }
  const { tree } = m.preview;
  if (m.checkout === undefined) return { actions: [{ kind: "merge-in-memory", tree, base: baseTip, integrationTip, message: m.message }, ...record, ...settle] };
  const { path, dirty, interrupted, mergeNote, otherMerge } = m.checkout;
  // Someone's own merge under way there (or what is left of one): it is theirs to conclude.
  if (otherMerge) {
    return refuse({
      code: "checkout-merging",
      message: `${f.base} is checked out in ${path}, where git notes a merge under way that is not this finish's (its MERGE_HEAD)`,
      fix: `conclude it there (git commit) or give it up (git merge --abort, in ${quote(path)}), then finish again`,
    });
  }
  // A merge of ours killed part way there left its files, or its index too, on their way to the merge's result.
  if (interrupted && !m.repaired) return { actions: [{ kind: "set-back-checkout", path, from: baseTip, to: tree, integrationTip, forgetMergeNote: mergeNote }] };
  if (dirty.length) {
    return refuse({
      code: "checkout-dirty",
      message: `${f.base} is checked out in ${path}, which has uncommitted changes (${dirty.slice(0, 3).join(", ")})`,
      fix: "commit or stash them, then finish again",
    });
  }
  return { actions: [{ kind: "merge-in-checkout", path, from: baseTip, to: tree, integrationTip, message: m.message, strategy: m.strategy }, ...record, ...settle] };
}

function decidePullRequest(f: FinishFacts, p: PullRequestFacts): Decision<FinishAction> {
  const branch = f.integrationBranch;
  if (p.tip === undefined) return refuse({ code: "branch-missing", message: `branch \`${branch}\` is missing`, fix: "restore it (git reflog, refs/parallel/) and run finish --pr again" });
  if (p.remote === undefined) {
    return refuse({
      code: "no-push-remote",
      message: `there is no remote to push ${f.slug}'s integration branch to: ${f.base} has no upstream remote and there is no \`origin\`${p.remotes.length ? ` (remotes: ${p.remotes.join(", ")})` : ""}`,
      fix: `add it: git remote add origin <url> (or give ${quote(f.base)} an upstream branch on a remote), then run ${sh`claude-parallel finish ${f.slug} --pr`} again`,
    });
  }
  // Already there (the CI job that published it, or an earlier finish --pr): nothing to push, and no write access needed for it.
  const push: FinishAction = p.remoteTip === p.tip ? say(`${p.remote} has ${branch} at ${p.tip.slice(0, 12)} already.`) : { kind: "push", remote: p.remote, tip: p.tip };
  if (p.gh !== "ready") return { actions: [push, { kind: "print-pull-request-commands", remote: p.remote, title: p.title, body: p.body, gh: p.gh }] };
  const pr = p.pullRequest;
  if (pr?.state === "open") return { actions: [push, say(`The pull request of ${branch} into ${f.base} is open already: ${pr.url}`)] };
  if (pr?.state === "closed") {
    const ref = `refs/heads/${branch}`;
    return refuse({
      code: "pull-request-closed",
      message: `the pull request of ${branch} into ${f.base} was closed without being merged: ${pr.url}`,
      fix: `reopen it (${sh`gh pr reopen ${pr.url}`}) and run ${sh`claude-parallel finish ${f.slug} --pr`} again, which pushes to it; or push and open a new one yourself: ${sh`git push ${p.remote} ${`${ref}:${ref}`}`}, then ${sh`gh pr create --base ${f.base} --head ${branch}`}`,
    });
  }
  // Merged with the branch as it is: its work is in base on the remote, and nothing is pushed or opened again.
  if (pr?.state === "merged" && pr.head === p.tip)
    return { actions: [say(`The pull request of ${branch} into ${f.base} was merged: ${pr.url}. Nothing to do: its work is in ${f.base} on the remote.`)] };
  // Merged before the branch's newest commits: those go in a new pull request.
  const since = pr?.state === "merged" ? [say(`The pull request ${pr.url} was merged at ${pr.head.slice(0, 12)}; ${branch} has commits since, so a new one is opened for them.`)] : [];
  return { actions: [...since, push, { kind: "open-pull-request", title: p.title, body: p.body }] };
}

const say = (text: string): FinishAction => ({ kind: "say", text });

/** One line saying what an action does (`finish --dry-run`). */
export function describeFinishAction(a: FinishAction, names: { slug: string; base: string; integrationBranch: string }): string {
  const { base, integrationBranch: branch } = names;
  switch (a.kind) {
    case "say":
      return a.text;
    case "forget-merge-note":
      return `forget the merge git still notes as under way in ${a.path} (MERGE_HEAD of ${branch}; the merge commit was made)`;
    case "set-back-checkout":
      return `set back what an interrupted finish left in ${a.path} (the checkout of ${base}), then decide again`;
    case "merge-in-checkout":
      return `merge ${branch} into ${base} in ${a.path} (git merge --no-ff, undone exactly if git fails)`;
    case "merge-in-memory":
      return `merge ${branch} into ${base} (tree ${a.tree.slice(0, 12)}) and move ${base} from ${a.base.slice(0, 12)} to the merge commit (${base} is checked out nowhere)`;
    case "record-finished":
      return `record ${names.slug} as finished`;
    case "settle-leftover":
      return describeCourse(a.worktree, a.course) ?? `settle what is left of ${a.worktree.worktree}`;
    case "push":
      return `push ${branch} (${a.tip.slice(0, 12)}) to the remote ${a.remote}`;
    case "open-pull-request":
      return `open the pull request of ${branch} into ${base} with gh: ${a.title}`;
    case "print-pull-request-commands":
      return `print the commands that push ${branch} and open its pull request (gh is ${a.gh === "missing" ? "not installed" : "not logged in"})`;
  }
}
