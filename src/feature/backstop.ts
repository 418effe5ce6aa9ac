import { RefusedError, type Refusal } from "../core/errors.js";
import { featureRefsFolder } from "../core/state/paths.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { refTips } from "../git/repo.js";
import { git } from "../git/run.js";
import { readState } from "./store.js";
import { pendingJournals, readJournal, type SyncJournal } from "./journal.js";
import { pendingTaskMerges, type TaskMergeJournal } from "./task-merge-journal.js";
import { backupsToPlace, decideRefs, expectedRefs, type ExpectedRefs, type PendingPublish, type RefFinding } from "../core/decide/decide-refs.js";
import { reportRefs } from "./ref-report.js";

/**
 * The backstop over every ref a session can move: before a merge, a publish or a finish, the
 * integration branch, the backup refs and the live task branches must be where we left them
 * (src/core/decide/decide-refs.ts decides). Anything else is refused, naming the ref, what it holds and
 * a fix; `status` reports the same.
 */

/** What the refs must hold, from the state and the journals of the publishes under way (files only, no git). */
export async function loadExpectedRefs(commonDir: string, state: FeatureState): Promise<ExpectedRefs | undefined> {
  return expectedFrom(state, await readPending(commonDir, state.slug));
}

/**
 * The same, read again without the feature's lock (status): the journals first, then the state. A
 * publish the refs showed is then in one of them: its journal is removed only after its record.
 */
export async function reloadExpectedRefs(commonDir: string, slug: string): Promise<ExpectedRefs | undefined> {
  const pending = await readPending(commonDir, slug);
  const state = await readState(commonDir, slug);
  return state && expectedFrom(state, pending);
}

interface Pending {
  syncs: SyncJournal[];
  merges: TaskMergeJournal[];
  damaged: boolean;
}

async function readPending(commonDir: string, slug: string): Promise<Pending> {
  const syncs: SyncJournal[] = [];
  let damaged = false;
  for (const phase of await pendingJournals(commonDir, slug)) {
    const journal = await readJournal(commonDir, slug, phase);
    if (journal === "damaged") damaged = true;
    else if (journal) syncs.push(journal);
  }
  const merges = await pendingTaskMerges(commonDir, slug);
  return { syncs, merges: merges.journals, damaged: damaged || merges.damaged };
}

function expectedFrom(state: FeatureState, { syncs, merges, damaged }: Pending): ExpectedRefs | undefined {
  const pending: PendingPublish[] = [...syncs];
  for (const j of merges) {
    const phase = Object.entries(state.phases).find(([, p]) => p.tasks[j.task] !== undefined)?.[0];
    pending.push({ ...(phase !== undefined && { phase: Number(phase) }), before: j.before, merged: j.merged, tips: { [j.task]: j.tip } });
  }
  return expectedRefs(state, pending, damaged);
}

/**
 * The refs' commits as `decideRefs` takes them: the integration branch's, and every ref under the
 * feature's folder (`under`, from the caller's one `for-each-ref`).
 */
export function refCommits(expected: ExpectedRefs, integrationTip: string | undefined, under: ReadonlyMap<string, string>): Map<string, string> {
  const refs = new Map(under);
  if (integrationTip !== undefined) refs.set(expected.integration.ref, integrationTip);
  return refs;
}

/**
 * The findings about the integration branch and the backups. A backup an older version recorded
 * without its tip is placed with one more `for-each-ref` (only then).
 */
export async function decideFeatureRefs(cwd: string, expected: ExpectedRefs, refs: ReadonlyMap<string, string>): Promise<RefFinding[]> {
  const unplaced = backupsToPlace(expected, refs);
  let outside = new Set<string>();
  if (unplaced.length) {
    // The recorded tip itself gone (git gc after a move): the integration branch's finding says so.
    const out = await git(["for-each-ref", "--format=%(refname)", `--no-merged=${expected.integration.tip}`, "--", ...unplaced], cwd);
    if (out.exitCode === 0) outside = new Set(out.stdout.split("\n").filter(Boolean));
  }
  return decideRefs(expected, refs, outside);
}

/** A refusal for every finding (the ref, what it holds, the fix): none when there is none. */
export async function findingRefusals(cwd: string, slug: string, findings: readonly RefFinding[], journalDamaged = false): Promise<Refusal[]> {
  if (findings.length === 0) return [];
  const reports = await reportRefs(cwd, findings, { slug, journalDamaged });
  return reports.map((r) => ({ ...FINDING_CODE[r.finding.kind === "moved" && r.finding.integration ? "integration" : r.finding.kind], message: r.message, fix: r.fix }));
}

const FINDING_CODE: Record<RefFinding["kind"] | "integration", { code: string }> = {
  integration: { code: "integration-moved" },
  moved: { code: "feature-ref-moved" },
  stray: { code: "stray-backup" },
  outside: { code: "backup-outside" },
  "off-start": { code: "branch-off-start" },
};

/** A refusal naming every finding (the ref, what it holds, the fix), or nothing when there is none. */
export async function refuseFindings(cwd: string, slug: string, findings: readonly RefFinding[], journalDamaged = false): Promise<void> {
  const refusals = await findingRefusals(cwd, slug, findings, journalDamaged);
  if (refusals.length) throw new RefusedError(refusals);
}

/**
 * What stands in the way when the integration branch or a backup ref is not where we left it
 * (none when they are): one `for-each-ref` of the integration branch and the feature's refs.
 */
export async function movedRefs(cwd: string, commonDir: string, state: FeatureState, extra: readonly RefFinding[] = []): Promise<Refusal[]> {
  const expected = await loadExpectedRefs(commonDir, state);
  if (!expected) return findingRefusals(cwd, state.slug, extra);
  const { tips, under } = await refTips(cwd, [state.integrationBranch], [featureRefsFolder(state.slug)]);
  const findings = await decideFeatureRefs(cwd, expected, refCommits(expected, tips.get(state.integrationBranch)?.commit, under));
  return findingRefusals(cwd, state.slug, [...findings, ...extra], expected.journalDamaged);
}

/** Refuses (exit 4, nothing changed) when the integration branch or a backup ref is not where we left it. */
export async function requireRefs(cwd: string, commonDir: string, state: FeatureState, extra: readonly RefFinding[] = []): Promise<void> {
  const refusals = await movedRefs(cwd, commonDir, state, extra);
  if (refusals.length) throw new RefusedError(refusals);
}
