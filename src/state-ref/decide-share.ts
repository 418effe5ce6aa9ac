import type { Refusal } from "../errors.js";
import { quote } from "../render/shell.js";

/**
 * What `push` and `pull` do with each of a feature's refs (its state ref, integration branch, task
 * branches and backups), decided from facts alone. The one rule both sides keep: a ref only ever
 * moves forward, to a commit that holds what it held; anything else is refused or left alone and
 * said, never overwritten.
 */

export interface RefFacts {
  /** Full name (`refs/heads/...`, `refs/parallel/...`). */
  ref: string;
  local?: string;
  remote?: string;
  /** The remote's commit is in the local one's history (false when it is not here at all). */
  remoteInLocal: boolean;
  /** The local commit is in the remote one's history. */
  localInRemote: boolean;
  /** The branch is checked out in this worktree (a pull never moves it under a checkout). */
  checkedOutIn?: string;
}

/** One ref of an atomic push: `to` replaces exactly `expect` (undefined: the ref must not exist). */
export interface RemoteUpdate {
  ref: string;
  expect?: string;
  to: string;
}

export function decidePush(facts: readonly RefFacts[], remote: string, slug: string): { updates: RemoteUpdate[] } | { refusals: Refusal[] } {
  const updates: RemoteUpdate[] = [];
  const refusals: Refusal[] = [];
  for (const f of facts) {
    if (f.local === undefined || f.local === f.remote) continue;
    if (f.remote === undefined || f.remoteInLocal) updates.push({ ref: f.ref, ...(f.remote !== undefined && { expect: f.remote }), to: f.local });
    else {
      refusals.push({
        message: `${f.ref} on ${remote} (${f.remote.slice(0, 12)}) holds commits this clone does not have`,
        fix: `bring them here first: claude-parallel pull ${quote(slug)} --remote ${quote(remote)}, then push again`,
      });
    }
  }
  return refusals.length ? { refusals } : { updates };
}

/** One local ref change of a pull: create (`from` undefined) or fast-forward. */
export interface LocalUpdate {
  ref: string;
  from?: string;
  to: string;
}

export interface PullRefsDecision {
  updates: LocalUpdate[];
  /** Refs left as they are, and why. */
  kept: string[];
}

export function decidePullRefs(facts: readonly RefFacts[], remote: string): PullRefsDecision {
  const updates: LocalUpdate[] = [];
  const kept: string[] = [];
  for (const f of facts) {
    if (f.remote === undefined || f.remote === f.local) continue;
    if (f.local !== undefined && f.remoteInLocal) {
      kept.push(`${f.ref}: this clone is ahead of ${remote} (push it with claude-parallel push)`);
    } else if (f.local !== undefined && !f.localInRemote) {
      kept.push(`${f.ref}: it and ${remote}'s differ (neither holds the other); kept yours at ${f.local.slice(0, 12)}, ${remote}'s is ${f.remote.slice(0, 12)}`);
    } else if (f.checkedOutIn !== undefined) {
      kept.push(`${f.ref}: checked out in ${f.checkedOutIn}; bring it forward there with git merge --ff-only ${f.remote.slice(0, 12)}`);
    } else {
      updates.push({ ref: f.ref, ...(f.local !== undefined && { from: f.local }), to: f.remote });
    }
  }
  return { updates, kept };
}

/** What a pull does with the shared state, from the state ref's three versions. */
export interface StateFacts {
  /** The state ref here: the last state this clone pushed or pulled. */
  last?: string;
  /** The state ref on the remote. */
  remote?: string;
  /** This clone has a state folder for the feature. */
  hasLocalState: boolean;
  /** The local state folder holds exactly what `last` holds. */
  localMatchesLast: boolean;
  /** The local state folder holds exactly what `remote` holds. */
  localMatchesRemote: boolean;
  lastInRemote: boolean;
  remoteInLast: boolean;
}

export type StateDecision = { kind: "adopt" } | { kind: "keep"; why: string } | { kind: "refuse"; refusal: Refusal };

export function decidePullState(f: StateFacts, remote: string, slug: string): StateDecision {
  if (f.remote === undefined) return { kind: "keep", why: `${remote} has no shared state of ${slug}` };
  if (!f.hasLocalState) return { kind: "adopt" };
  if (f.localMatchesRemote) return { kind: f.last === f.remote ? "keep" : "adopt", why: "the same state is here already" };
  if (f.last === f.remote) return { kind: "keep", why: `nothing new on ${remote}; this clone's changes are not pushed yet` };
  if (f.last !== undefined && f.remoteInLast) return { kind: "keep", why: `this clone is ahead of ${remote}` };
  if (f.last !== undefined && f.lastInRemote && f.localMatchesLast) return { kind: "adopt" };
  const fix = `if ${remote}'s state is the one to keep, forget this clone's (claude-parallel clean ${quote(slug)}) and pull again; to keep this clone's, run the feature here and do not push it over ${remote}'s`;
  if (f.last === undefined) {
    return { kind: "refuse", refusal: { message: `${slug} was started here and on ${remote} separately: both have a state, and they differ`, fix } };
  }
  return {
    kind: "refuse",
    refusal: { message: `${slug} moved on ${remote} while this clone changed its own state (both changed since they last matched)`, fix },
  };
}
