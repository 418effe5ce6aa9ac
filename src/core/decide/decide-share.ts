import type { Decision, Refusal } from "../errors.js";
import { stateRef } from "../state/paths.js";
import { quote } from "../text/shell.js";

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

type PushAction = { kind: "push"; update: RemoteUpdate } | { kind: "say"; text: string };

/**
 * Each ref the remote lacks or holds an older commit of is pushed (all of them in one atomic push,
 * each with a lease on the remote's commit); a ref the remote moved past this clone's is refused.
 * `state`: the commit recording the feature's state (its state ref's, once recorded).
 */
export function decidePush(facts: readonly RefFacts[], remote: string, slug: string, state: string): Decision<PushAction> {
  const actions: PushAction[] = [];
  const refusals: Refusal[] = [];
  for (const f of facts) {
    if (f.local === undefined || f.local === f.remote) continue;
    if (f.remote === undefined || f.remoteInLocal) actions.push({ kind: "push", update: { ref: f.ref, ...(f.remote !== undefined && { expect: f.remote }), to: f.local } });
    else {
      refusals.push({
        code: "remote-ahead",
        message: `${f.ref} on ${remote} (${f.remote.slice(0, 12)}) holds commits this clone does not have`,
        fix: `bring them here first: claude-parallel pull ${quote(slug)} --remote ${quote(remote)}, then push again`,
      });
    }
  }
  if (refusals.length) return { refusals };
  if (actions.length === 0) actions.push({ kind: "say", text: `${remote} already has ${slug}'s state and refs (${stateRef(slug)} at ${state.slice(0, 12)}).` });
  return { actions };
}

/** One line saying what a push action does (`push --dry-run`); `push` says the same once done (`done`). */
export function describePushAction(a: PushAction, done = false): string {
  return a.kind === "say" ? a.text : `${done ? "" : "push "}${refChange(a.update.ref, a.update.expect, a.update.to)}`;
}

/** One local ref change of a pull: create (`from` undefined) or fast-forward. */
export interface LocalUpdate {
  ref: string;
  from?: string;
  to: string;
}

interface PullRefsDecision {
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

/** What a pull does: the shared state taken or kept, then each of the feature's refs moved or kept. */
type PullAction = { kind: "take-state"; commit: string; allowed: boolean } | { kind: "keep-state"; why: string } | { kind: "move-ref"; update: LocalUpdate } | { kind: "keep-ref"; why: string };

/** The pull's actions, in order, from its two decisions. */
export function pullActions(state: PullAction & { kind: "take-state" | "keep-state" }, refs: PullRefsDecision): PullAction[] {
  return [state, ...refs.updates.map((update) => ({ kind: "move-ref" as const, update })), ...refs.kept.map((why) => ({ kind: "keep-ref" as const, why }))];
}

/** One line saying what a pull action does (`pull --dry-run`); `pull` says the same once done (`done`). */
export function describePullAction(a: PullAction, slug: string, remote: string, done = false): string {
  switch (a.kind) {
    case "take-state":
      return `${done ? "Took" : "take"} ${slug}'s state from ${remote} (${stateRef(slug)} at ${a.commit.slice(0, 12)})${a.allowed ? ", which you allowed (claude-parallel allow)" : ""}`;
    case "keep-state":
      return `${done ? "Kept" : "keep"} this clone's state of ${slug}: ${a.why}`;
    case "move-ref":
      return `${done ? "" : "move "}${refChange(a.update.ref, a.update.from, a.update.to)}`;
    case "keep-ref":
      return `${done ? "kept" : "keep"} ${a.why}`;
  }
}

/** `ref: old -> new`, or `ref: new at <commit>`. */
const refChange = (ref: string, from: string | undefined, to: string) => `${ref}: ${from ? `${from.slice(0, 12)} -> ` : "new at "}${to.slice(0, 12)}`;

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

type StateDecision = { kind: "adopt" } | { kind: "keep"; why: string } | { kind: "refuse"; refusal: Refusal };

export function decidePullState(f: StateFacts, remote: string, slug: string): StateDecision {
  if (f.remote === undefined) return { kind: "keep", why: `${remote} has no shared state of ${slug}` };
  if (!f.hasLocalState) return { kind: "adopt" };
  if (f.localMatchesRemote) return { kind: f.last === f.remote ? "keep" : "adopt", why: "the same state is here already" };
  if (f.last === f.remote) return { kind: "keep", why: `nothing new on ${remote}; this clone's changes are not pushed yet` };
  if (f.last !== undefined && f.remoteInLast) return { kind: "keep", why: `this clone is ahead of ${remote}` };
  if (f.last !== undefined && f.lastInRemote && f.localMatchesLast) return { kind: "adopt" };
  const fix = `if ${remote}'s state is the one to keep, forget this clone's (claude-parallel clean ${quote(slug)}) and pull again; to keep this clone's, run the feature here and do not push it over ${remote}'s`;
  if (f.last === undefined) {
    return { kind: "refuse", refusal: { code: "state-started-twice", message: `${slug} was started here and on ${remote} separately: both have a state, and they differ`, fix } };
  }
  return {
    kind: "refuse",
    refusal: { code: "state-diverged", message: `${slug} moved on ${remote} while this clone changed its own state (both changed since they last matched)`, fix },
  };
}
