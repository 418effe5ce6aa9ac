import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Where a feature's state lives: `<git-common-dir>/parallel/<slug>/`, shared by every worktree of
 * the repository and never part of any commit. Every file of it is named here and nowhere else.
 */
export function featureDir(commonDir: string, slug: string): string {
  return join(commonDir, "parallel", slug);
}

export const statePath = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "state.json");
export const frozenPlanPath = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "plan.yaml");
export const journalPath = (commonDir: string, slug: string, phase: number) => join(featureDir(commonDir, slug), `sync-phase-${phase}.json`);
/** The journals of one task's merge each in a rolling run, each there only while that merge is under way. */
export const taskMergeJournalDir = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "merge-task");
export const taskMergeJournalPath = (commonDir: string, slug: string, taskId: string) => join(taskMergeJournalDir(commonDir, slug), `${taskId}.json`);
/** Written while a checkout's index and files are moved to another tree (sync, a rolling merge, finish): a re-run knows whose half-written files it finds there. */
export const checkoutMovePath = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "checkout-move.json");
export const sessionsDir = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "sessions");
/** The settings that give a task's session Claude Code's Bash sandbox (`claude --settings`), out of the session's reach. */
export const sandboxSettingsPath = (commonDir: string, slug: string, taskId: string) => join(featureDir(commonDir, slug), "sandbox", `${taskId}.json`);
/** The ignore file the sandboxed sessions' git reads (core.excludesFile): the sandbox's placeholders, then the user's own patterns. */
export const sandboxIgnorePath = (commonDir: string, slug: string, taskId: string) => join(featureDir(commonDir, slug), "sandbox", `${taskId}.gitignore`);
export const verifyRecordPath = (commonDir: string, slug: string, taskId: string) => join(featureDir(commonDir, slug), "verify", `${taskId}.json`);
/** The whole output of the last failing run of a task's verify (the record and the hand-back hold only the part that failed). */
export const verifyLogPath = (commonDir: string, slug: string, taskId: string) => join(featureDir(commonDir, slug), "verify", `${taskId}.log`);
/** The whole output of the last failing verify of a merged result (a sync's, or a rolling merge's). */
export const mergedVerifyLogPath = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "verify-merged.log");
/** Locks sit beside the features (a slug never starts with '.'), so taking one creates no feature folder. */
export const locksDir = (commonDir: string) => join(commonDir, "parallel", ".locks");
/**
 * The temporary worktree in which a sync verifies a phase: one per repository and feature, named
 * exactly (the feature lock makes sure only one sync uses it), so no other feature's is ever matched.
 */
export const verifyWorktreePath = (commonDir: string, slug: string) => join(tmpdir(), `claude-parallel-verify-${createHash("sha256").update(commonDir).digest("hex").slice(0, 12)}-${slug}`);
/** The reviewer gate's rounds per phase, and each review's session log (src/review/). */
export const reviewRecordPath = (commonDir: string, slug: string, phase: number) => join(featureDir(commonDir, slug), "review", `phase-${phase}.json`);
export const reviewLogPath = (commonDir: string, slug: string, phase: number, round: number) => join(featureDir(commonDir, slug), "review", `phase-${phase}-round-${round}.jsonl`);
/** The temporary worktree, at the merged result, in which the reviewer reads (named like the verify worktree). */
export const reviewWorktreePath = (commonDir: string, slug: string) => join(tmpdir(), `claude-parallel-review-${createHash("sha256").update(commonDir).digest("hex").slice(0, 12)}-${slug}`);
/**
 * Written by `claude-parallel allow <digest>`: the user trusts the shared state whose verify
 * commands, prompts and branches have this digest (src/state-ref/trust.ts), as direnv records an
 * allowed `.envrc`: in the git directory, never in a worktree. One file per digest, naming the
 * feature it is of (src/state-ref/trust-records.ts).
 */
export const trustedDir = (commonDir: string) => join(commonDir, "parallel", ".trusted");
export const trustedDigestPath = (commonDir: string, digest: string) => join(trustedDir(commonDir), digest);
/** The dashboard serving this repository (its pid, port and token, mode 0600), so a second `dashboard --detach` opens it again. */
export const dashboardRecordPath = (commonDir: string) => join(commonDir, "parallel", ".dashboard.json");
/** Left by `clean` when it removes a finished feature, so the feature is not mistaken for a new one. */
export const finishedMarkerPath = (commonDir: string, slug: string) => join(commonDir, "parallel", ".finished", `${slug}.json`);
/**
 * The feature's state as a commit (its tree: `plan.yaml`, `state.json`) that travels with the
 * repository: pushed and fetched like a branch (`claude-parallel push` / `pull`, src/state-ref/).
 */
export const stateRef = (slug: string) => `refs/parallel/${slug}/state`;
/** The folder of the feature's own refs (its backups, shared state and CI's marks). */
export const featureRefsFolder = (slug: string) => `refs/parallel/${slug}/`;
/** Where `sync` backs up each merged task branch: `<prefix><phase>/<task>`. */
export const backupRefPrefix = (slug: string) => `refs/parallel/${slug}/phase-`;
/** Where a merged task's branch tip is kept: `refs/parallel/<slug>/phase-<n>/<task>` (clean removes them). */
export const backupRef = (slug: string, phase: number, taskId: string) => `${backupRefPrefix(slug)}${phase}/${taskId}`;
/** Set on the remote by a CI task leg whose session succeeded, at the commit it left: a re-run of the phase skips that session. */
export const sessionDoneRef = (slug: string, task: string) => `refs/parallel/${slug}/done/${task}`;
/** `claude-parallel run`: its state (attempts, sessions' invocations), its event log and its output. */
export const runDir = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "run");
export const runStatePath = (commonDir: string, slug: string) => join(runDir(commonDir, slug), "state.json");
export const runEventsPath = (commonDir: string, slug: string) => join(runDir(commonDir, slug), "events.jsonl");
/** Which notification went to which target (by digest: a URL may carry a token), so a run run again sends none twice. */
export const runNotifiedPath = (commonDir: string, slug: string) => join(runDir(commonDir, slug), "notified.jsonl");
/** What the commands `run` calls (start, sync, finish) print, and a detached run's own output. */
export const runOutputPath = (commonDir: string, slug: string) => join(runDir(commonDir, slug), "output.log");
/** `status`'s last conflict prediction per phase, keyed by the commits it was made from (a cache: safe to delete). */
export const predictionCachePath = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "status-prediction.json");
/** `claude-parallel watch`: which pull request feedback went to whom, the rounds, the sessions it resumed. */
export const watchStatePath = (commonDir: string, slug: string) => join(featureDir(commonDir, slug), "watch", "state.json");
