import type { FeatureState } from "../state/state-schema.js";
import { backupRefPrefix } from "../state/paths.js";
import { backupRef } from "../state/paths.js";

/**
 * Where the feature's refs must be, and what is wrong with them: pure functions of the state, the
 * journals of publishes under way and the refs' commits. Every worktree shares one ref store, so a
 * session can move any branch (`git update-ref`, a commit on a detached HEAD): before anything is
 * merged, each ref we moved must be where we left it (src/feature/backstop.ts gathers the facts).
 */

/** A publish under way: its journal is written, its state record not yet (or not yet removed). */
export interface PendingPublish {
  /** The phase whose backup refs it writes (unknown for a task merge whose task the state lacks). */
  phase?: number;
  before: string;
  merged: string;
  /** Task id -> the tip merged: its backup ref's value. */
  tips: Readonly<Record<string, string>>;
}

export interface ExpectedRefs {
  integration: {
    ref: string;
    /** Where our last move of it left it. */
    tip: string;
    /** Where a publish under way (made on `tip`) may have put it. */
    also: string[];
  };
  /**
   * Each backup ref we wrote, by full name: the commits it may hold (the recorded tip, a pending
   * publish's) and whether it may be missing (a pending publish writes it, the recorded one did
   * not), or "in-integration" when an older version recorded the merge but not the tip: then any
   * commit the integration branch holds.
   */
  backups: Map<string, BackupExpectation>;
  /** The folder of the backup refs: any other ref in it was not written by us. */
  backupPrefix: string;
  /** A journal of an interrupted publish cannot be read: a move it made looks like anyone's. */
  journalDamaged: boolean;
}

type BackupExpectation = { tips: string[]; mayBeMissing: boolean } | "in-integration";

export type RefFinding =
  /** The integration branch or a backup ref is not where we left it (`actual` undefined: deleted). */
  | { kind: "moved"; ref: string; integration: boolean; expected: string; actual: string | undefined }
  /** A ref among the feature's backups that we never wrote. */
  | { kind: "stray"; ref: string; actual: string; integrationTip: string }
  /** A backup ref recorded without its tip (an older version) that holds a commit the integration branch does not. */
  | { kind: "outside"; ref: string; actual: string; integrationTip: string }
  /** A live task's branch no longer holds the commit it started from (rebased, or reset to another history). */
  | { kind: "off-start"; ref: string; task: string; expected: string; actual: string; worktree?: string };

/**
 * Where the integration branch must be: the recorded tip, or, in a state written before it was
 * recorded, the latest of the commits the phases and tasks recorded (their start, their merge).
 */
export function recordedIntegrationTip(state: FeatureState): string | undefined {
  if (state.integrationTip !== undefined) return state.integrationTip;
  let latest: { at: string; commit: string } | undefined;
  const consider = (at: string | undefined, commit: string | undefined) => {
    if (at !== undefined && commit !== undefined && (latest === undefined || at >= latest.at)) latest = { at, commit };
  };
  for (const phase of Object.values(state.phases)) {
    consider(phase.startedAt, phase.startCommit);
    for (const task of Object.values(phase.tasks)) consider(task.mergedAt, task.mergedCommit);
    consider(phase.syncedAt, phase.mergedCommit);
  }
  return latest?.commit;
}

/**
 * What the refs must hold, or undefined when nothing is to be checked: no start recorded yet, or
 * the feature finished (its branches are the user's again).
 */
export function expectedRefs(state: FeatureState, pending: readonly PendingPublish[], journalDamaged: boolean): ExpectedRefs | undefined {
  const tip = recordedIntegrationTip(state);
  if (tip === undefined || state.finishedAt !== undefined) return undefined;
  const backups = new Map<string, BackupExpectation>();
  for (const [n, phase] of Object.entries(state.phases)) {
    for (const [id, task] of Object.entries(phase.tasks)) {
      const ref = backupRef(state.slug, Number(n), id);
      if (task.mergedTip !== undefined) backups.set(ref, { tips: [task.mergedTip], mayBeMissing: false });
      else if (task.skipped === undefined && (phase.syncedAt !== undefined || task.mergedAt !== undefined)) backups.set(ref, "in-integration");
    }
  }
  const also: string[] = [];
  for (const p of pending) {
    if (p.before === tip && p.merged !== tip) also.push(p.merged);
    if (p.phase === undefined) continue;
    for (const [id, t] of Object.entries(p.tips)) {
      const ref = backupRef(state.slug, p.phase, id);
      const known = backups.get(ref);
      if (known !== "in-integration") backups.set(ref, { tips: [...(known?.tips ?? []), t], mayBeMissing: known?.mayBeMissing ?? true });
    }
  }
  return { integration: { ref: `refs/heads/${state.integrationBranch}`, tip, also }, backups, backupPrefix: backupRefPrefix(state.slug), journalDamaged };
}

/** The integration branch's finding, if it is not where we left it (nor where a publish under way put it). */
export function integrationFinding(expected: ExpectedRefs, actual: string | undefined): RefFinding | undefined {
  const { ref, tip, also } = expected.integration;
  if (actual === tip || (actual !== undefined && also.includes(actual))) return undefined;
  return { kind: "moved", ref, integration: true, expected: tip, actual };
}

/**
 * Every finding about the integration branch and the backup refs. `refs`: the commit of each ref
 * that exists among the integration branch and the refs under `backupPrefix`; `notInIntegration`:
 * the backup refs (full names) holding a commit the integration branch's recorded tip does not.
 */
export function decideRefs(expected: ExpectedRefs, refs: ReadonlyMap<string, string>, notInIntegration: ReadonlySet<string> = new Set()): RefFinding[] {
  const findings: RefFinding[] = [];
  const integration = integrationFinding(expected, refs.get(expected.integration.ref));
  if (integration) findings.push(integration);
  for (const [ref, allowed] of expected.backups) {
    const actual = refs.get(ref);
    if (allowed === "in-integration") {
      if (actual !== undefined && notInIntegration.has(ref)) findings.push({ kind: "outside", ref, actual, integrationTip: expected.integration.tip });
    } else if (actual === undefined ? !allowed.mayBeMissing : !allowed.tips.includes(actual)) findings.push({ kind: "moved", ref, integration: false, expected: allowed.tips[0]!, actual });
  }
  for (const [ref, actual] of refs) {
    if (ref.startsWith(expected.backupPrefix) && !expected.backups.has(ref)) findings.push({ kind: "stray", ref, actual, integrationTip: expected.integration.tip });
  }
  return findings;
}

/** The backup refs an older version recorded without their tip: those `decideRefs` needs `notInIntegration` for. */
export function backupsToPlace(expected: ExpectedRefs, refs: ReadonlyMap<string, string>): string[] {
  return [...expected.backups].filter(([ref, allowed]) => allowed === "in-integration" && refs.has(ref)).map(([ref]) => ref);
}
