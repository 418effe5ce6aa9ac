import { join } from "node:path";
import { SESSION_DIR } from "../session/session-files.js";
import { pathExists } from "../fs/exists.js";
import { readRegularText } from "../fs/read-regular.js";
import { mergeChain, type ConflictReport } from "../merge/merge-chain.js";
import { branchHistory, type BranchHistory } from "../git/branch-history.js";
import { uncommittedPaths } from "../git/status.js";
import { refTips, type BranchTip, type Repo } from "../git/repo.js";
import type { PlannedPhase, PlannedTask } from "../core/plan/build.js";
import { unnamedClaudeConfig } from "../core/plan/claude-config.js";
import { octopusRefusal } from "../core/render/owns-refusal.js";
import { covers, ownedPattern } from "../core/plan/owns.js";
import { readSessionRecord } from "../session/headless.js";
import type { Feature } from "../feature/resolve.js";
import { processAlive } from "../process-identity.js";
import { readVerifyRecord, runVerify } from "../session/verify.js";
import { featureDir, featureRefsFolder } from "../core/state/paths.js";
import { cachedPrediction } from "./prediction-cache.js";
import { brokenTaskRules } from "./task-rules.js";
import { addTokens, readHookRecord, totalTokens, ZERO_TOKENS, type HookRecord, type SessionHookState, type Tokens } from "../session/ledger.js";
import { readReviewCosts, readSessionResults, taskCostUsd, type ReviewCosts, type SessionResults } from "../session/cost-accounting.js";
import { sessionLogPath, sessionStderrPath, stderrTail } from "../session/sessions.js";
import { damageOf } from "../feature/store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { decideFeatureRefs, loadExpectedRefs, refCommits, reloadExpectedRefs } from "../feature/backstop.js";
import type { RefFinding } from "../core/decide/decide-refs.js";
import { reportRefs, type RefReport } from "../feature/ref-report.js";
import type { TaskSession } from "../core/state/state-schema.js";

type VerifyState = { kind: "none" } | { kind: "not-run"; command: string } | { kind: "passed" | "failed"; command: string; exitCode: number; commit: string; current: boolean; outputTail: string };

type SessionState =
  | { kind: "not-launched" }
  | { kind: "running"; pid: number; startedAt?: string }
  /** Its record is damaged: whether it still runs is not known. */
  | { kind: "unknown"; problem: string }
  /** `reason`: the last lines the session wrote to stderr, when it failed; `log`: its output. */
  | { kind: "exited"; exitCode: number | null; reason?: string; log: string; sessionId?: string; startedAt?: string; endedAt?: string };

export interface TaskStatus {
  id: string;
  role: string;
  branch: string;
  worktree?: string;
  /** Commits on the branch that the integration branch does not have. */
  ahead: number;
  /** Paths with uncommitted changes in the worktree (untracked files included, ignored ones not). */
  uncommitted: string[];
  lastCommit?: { sha: string; subject: string; when: string };
  /** Files the task changed that none of its owned paths covers. */
  outsideOwns: string[];
  /** Its own merges of more than two branches at once, which the sync refuses (as it says it). */
  octopusMerges?: { code: "outside-owns"; commits: string[]; message: string; fix: string };
  worktreeMissing: boolean;
  branchMissing: boolean;
  /** Why the task is skipped (`claude-parallel skip`), when it is. */
  skipped?: string;
  /** The branch's tip, when it exists. */
  tip?: string;
  /** What the session asked of other tasks (`.claude-parallel/requests.md`, written when the hook refused an edit). */
  requests?: string[];
  session: SessionState;
  verify: VerifyState;
  /** What the plugin's hooks recorded of the task's Claude Code session (src/hooks/), if any. */
  ledger?: SessionLedger;
  /** Sessions started or resumed for the task. */
  attempts: number;
  /** Tokens used: the hooks' count, or else the headless results'. */
  tokens: Tokens;
  /** What Claude Code reported the task's sessions cost (headless results); undefined where it reports none. */
  costUsd?: number;
  /** What is wrong with the task rules the hooks read in its worktree, while its work goes on there (src/status/task-rules.ts). */
  brokenRules?: string;
  /** Files of the task's state that were not read, or lines of them skipped, and why (a session can write there). */
  unread?: string[];
  /** The task's session as the shared state records it (a CI leg's, or another clone's pushed), when none ran here. */
  sharedSession?: TaskSession;
  /** The latest Claude Code session of the task and the turns its headless runs took, wherever they ran. */
  sessionId?: string;
  turns?: number;
}

/** Sums over a phase's or the feature's tasks, and its reviews. */
export interface Totals {
  attempts: number;
  tokens: Tokens;
  /** Of the tasks whose cost Claude Code reported (`costReported` says how many that is), and of the reviewer's sessions. */
  costUsd: number;
  costReported: number;
  tasks: number;
  /** The reviewer's part of `costUsd` (docs/review.md), when a review reported one. */
  reviewUsd?: number;
}

export interface SessionLedger {
  state: SessionHookState;
  since: string;
  /** The last hook event and when it came. */
  event: string;
  at: string;
  /** Why it failed, or what it waits for. */
  detail?: string;
  lastMessage?: string;
  /** The Claude Code session it last saw (`claude --resume <id>` continues it). */
  sessionId?: string;
  /** Claude Code sessions the task has had (launch, resume, /clear) and their tokens, summed. */
  sessions: number;
  tokens: Tokens;
}

/** A predicted conflict: the task whose merge conflicts, its files, where each side's version came from, and the fix (as the sync reports it). */
export type Conflict = ConflictReport;

export interface PhaseStatus {
  index: number;
  state: "synced" | "started" | "not started";
  tasks: TaskStatus[];
  conflicts: Conflict[];
  /** The phase is in progress and nothing status sees would stop its sync (`readyToSync`). */
  readyToSync: boolean;
  totals: Totals;
}

export interface FeatureStatus {
  slug: string;
  feature: string;
  base: string;
  integrationBranch: string;
  phases: PhaseStatus[];
  totals: Totals;
  /**
   * Refs not where claude-parallel left them (the integration branch, a backup, a task branch off
   * its start): sync, run and finish refuse until each is fixed as its report says.
   */
  movedRefs?: RefReport[];
  /** Moves of the integration branch outside our merges that the user accepted (`claude-parallel accept`). */
  acceptedMoves?: Array<{ from: string; to: string; at: string }>;
}

/** What git says of a task's branch, gathered for the whole phase at once (see `gatherStatus`). */
interface BranchFacts {
  tip?: BranchTip;
  /** Commits on the branch that the integration branch does not have. */
  ahead: number;
}

/** Whether a task's worktree is there, what it holds uncommitted, and, while its work goes on (`live`), what is wrong with its task rules. */
interface WorktreeLook {
  exists: boolean;
  uncommitted: string[];
  brokenRules?: string;
}

async function lookAt(worktree: string | undefined, live: boolean): Promise<WorktreeLook> {
  const exists = worktree !== undefined && (await pathExists(worktree));
  if (!exists) return { exists, uncommitted: [] };
  const [uncommitted, brokenRules] = await Promise.all([uncommittedPaths(worktree!), live ? brokenTaskRules(worktree!) : undefined]);
  return { exists, uncommitted, ...(brokenRules !== undefined && { brokenRules }) };
}

async function taskStatus(
  repo: Repo,
  feature: Feature,
  task: PlannedTask,
  branch: BranchFacts,
  history: BranchHistory,
  siblings: string[],
  integrationTip: string | undefined,
  worktree: string | undefined,
  look: Promise<WorktreeLook>,
  verifyNow: VerifyNow | undefined,
): Promise<TaskStatus> {
  const tip = branch.tip?.commit;
  const { exists: worktreeExists, uncommitted, brokenRules } = await look;
  const status: TaskStatus = {
    ...initialStatus(task),
    worktree,
    worktreeMissing: !worktreeExists,
    branchMissing: tip === undefined,
    ...(tip !== undefined && { tip }),
    ...(brokenRules !== undefined && { brokenRules }),
  };
  const unread: string[] = [];
  const note = (problem: string) => void unread.push(problem);
  // The session's files are found where we write them, never where its record says.
  const log = sessionLogPath(repo.commonDir, feature.slug, task.id);
  const record = await readSessionRecord(repo.commonDir, feature.slug, task.id).catch((error) => {
    status.session = { kind: "unknown", problem: damageOf(error) };
    return undefined;
  });
  if (record?.pid !== undefined) {
    const startedAt = record.startedAt && { startedAt: record.startedAt };
    if (record.exitCode === undefined && processAlive(record.pid)) status.session = { kind: "running", pid: record.pid, ...startedAt };
    else {
      const exitCode = record.exitCode ?? null;
      const reason = exitCode === 0 ? undefined : (await stderrTail(sessionStderrPath(repo.commonDir, feature.slug, task.id), 3)).join(" / ");
      status.session = {
        kind: "exited",
        exitCode,
        log,
        ...(reason && { reason: reason.length > 300 ? `...${reason.slice(-300)}` : reason }),
        ...(record.sessionId && { sessionId: record.sessionId }),
        ...startedAt,
        ...(record.endedAt && { endedAt: record.endedAt }),
      };
    }
  }
  const read = await readSessionResults(log, status.session.kind !== "running").catch((error) => void note(damageOf(error)));
  const results = read?.results;
  unread.push(...(read?.skipped ?? []));
  const ledger = readHookRecord(featureDir(repo.commonDir, feature.slug), task.id, note);
  if (ledger) {
    status.ledger = {
      state: ledger.state,
      since: ledger.since,
      event: ledger.event,
      at: ledger.at,
      ...(ledger.detail !== undefined && { detail: ledger.detail }),
      ...(ledger.lastMessage !== undefined && { lastMessage: ledger.lastMessage }),
      ...(ledger.sessionId !== undefined && { sessionId: ledger.sessionId }),
      sessions: Object.keys(ledger.sessions).length,
      tokens: totalTokens(ledger),
    };
  }
  Object.assign(status, usageOf(ledger, results, status.session.kind !== "not-launched"));
  const sessionId = ledger?.sessionId ?? record?.sessionId;
  if (sessionId !== undefined) status.sessionId = sessionId;
  const changed = new Set<string>();
  // What the task changed itself (not what it merged from its phase's other branches).
  const own = tip !== undefined ? history.ownChanges(tip, siblings, integrationTip) : new Set<string>();
  const octopus = tip !== undefined ? history.octopusMerges(tip, siblings, integrationTip) : [];
  if (octopus.length) {
    const { message, fix } = octopusRefusal(octopus, task.branch, tip!, worktreeExists ? worktree : undefined);
    status.octopusMerges = { code: "outside-owns", commits: octopus, message, fix };
  }
  if (branch.tip !== undefined) {
    status.ahead = branch.ahead;
    if (status.ahead > 0) status.lastCommit = { sha: branch.tip.short, subject: branch.tip.subject, when: branch.tip.when };
  }
  for (const f of own) changed.add(f);
  if (worktreeExists) {
    status.uncommitted = uncommitted;
    for (const path of status.uncommitted) changed.add(path);
    const requests = ((await readRegularText(join(worktree!, SESSION_DIR, "requests.md"), MAX_BYTES.worktreeNote)) ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    if (requests.length) status.requests = requests.slice(0, 20);
  }
  if (task.verify && tip !== undefined) {
    const ran =
      verifyNow && worktreeExists
        ? await runVerify(repo.commonDir, feature.slug, task.id, worktree!, task.verify, tip, verifyNow.port, verifyNow.confined)
        : await readVerifyRecord(repo.commonDir, feature.slug, task.id, note);
    if (ran && ran.command === task.verify) {
      status.verify = { kind: ran.exitCode === 0 ? "passed" : "failed", command: ran.command, exitCode: ran.exitCode, commit: ran.commit, current: ran.commit === tip, outputTail: ran.outputTail };
    }
  }
  const owned = [...task.owns, ...task.produces].map(ownedPattern);
  const outside = owned.length ? [...changed].filter((f) => !owned.some((p) => covers(p, f))) : [];
  // Claude Code configuration its owns do not name: the sync refuses it too.
  status.outsideOwns = [...new Set([...outside, ...unnamedClaudeConfig(changed, owned).map((f) => f.path)])].sort();
  if (unread.length) status.unread = unread.slice(0, 5);
  return status;
}

/**
 * Where every session of the feature stands. Reads only: no checkout or ref is touched. Every
 * branch tip is resolved once, in one `for-each-ref`; the queries that do not wait for each other
 * (each task's commits, own changes and worktree; the phase's merge chain) run side by side.
 */
/** `status --verify`: run each live task's verify now, with its port, confined or not (src/session/sandbox.ts). */
interface VerifyNow {
  port?: number;
  confined: boolean;
}

export async function gatherStatus(repo: Repo, feature: Feature, options: { runVerify?: { confined: boolean } } = {}): Promise<FeatureStatus> {
  const { plan } = feature;
  const stateOf = (phase: PlannedPhase) => {
    const recorded = feature.state?.phases[String(phase.index)];
    return recorded?.syncedAt ? "synced" : recorded ? "started" : "not started";
  };
  const started = plan.phases.filter((p) => stateOf(p) === "started");
  let expected = feature.state ? await loadExpectedRefs(repo.commonDir, feature.state) : undefined;
  const { tips, under } =
    started.length || expected
      ? await refTips(repo.root, [plan.integrationBranch, ...started.flatMap((p) => p.tasks.map((t) => t.branch))], expected ? [featureRefsFolder(feature.slug)] : [])
      : { tips: new Map<string, BranchTip>(), under: new Map<string, string>() };
  const integrationTip = tips.get(plan.integrationBranch)?.commit;
  let moved: RefFinding[] = expected ? await decideFeatureRefs(repo.root, expected, refCommits(expected, integrationTip, under)) : [];
  // Status takes no lock: a merge may have published and recorded itself since the state was
  // read. Read again (journals, then state) before reporting a move that may be ours.
  if (moved.length) {
    expected = (await reloadExpectedRefs(repo.commonDir, feature.slug)) ?? expected;
    moved = await decideFeatureRefs(repo.root, expected!, refCommits(expected!, integrationTip, under));
  }
  // A damaged review record is the sync's to report (it stops there): status counts nothing of it.
  const reviews: ReviewCosts = await readReviewCosts(repo.commonDir, feature.slug, plan.phases).catch(() => ({ byPhase: new Map() }));
  const phases: PhaseStatus[] = [];
  for (const phase of plan.phases) {
    const state = stateOf(phase);
    if (state !== "started") {
      // What a synced phase's sessions used still counts in the feature's totals.
      const recorded = feature.state?.phases[String(phase.index)];
      const tasks = await Promise.all(phase.tasks.map((t) => pastTaskStatus(repo, feature, t, recorded?.tasks[t.id]?.session)));
      phases.push({ index: phase.index, state, tasks, conflicts: [], readyToSync: false, totals: totalsOf(tasks, reviews.byPhase.get(phase.index)) });
      continue;
    }
    const recorded = feature.state!.phases[String(phase.index)]!;
    // The worktrees' `git status` runs side by side with the log below.
    const looks = phase.tasks.map((t) => lookAt(recorded.tasks[t.id]?.worktree, recorded.tasks[t.id]?.skipped === undefined && recorded.tasks[t.id]?.mergedAt === undefined));
    for (const look of looks) look.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    // Every task's commits and own changes from one `git log` of the phase's branches and the
    // integration branch since the phase's start (the same walk the sync's preflight reads).
    const named = [
      ...(integrationTip === undefined ? [] : [{ commit: integrationTip, branch: plan.integrationBranch }]),
      ...phase.tasks.flatMap((t) => (tips.has(t.branch) ? [{ commit: tips.get(t.branch)!.commit, branch: t.branch, task: t.id }] : [])),
    ];
    const history = await branchHistory(repo.root, recorded.startCommit, integrationTip === undefined ? [] : named.map((n) => n.commit), { named });
    const branches = phase.tasks.map((t): BranchFacts => {
      const tip = tips.get(t.branch);
      return tip === undefined ? { ahead: 0 } : { tip, ahead: history.ahead(tip.commit, integrationTip) };
    });
    const skipped = phase.tasks.map((t) => recorded.tasks[t.id]?.skipped?.reason);
    // As the sync's preflight counts them: a skipped task's branch is nobody's sibling.
    const siblings = (i: number) => branches.flatMap((b, k) => (k !== i && skipped[k] === undefined && b.tip !== undefined ? [b.tip.commit] : []));
    if (integrationTip !== undefined) {
      phase.tasks.forEach((t, i) => {
        const tip = branches[i]!.tip?.commit;
        const task = recorded.tasks[t.id];
        const start = task?.startCommit ?? recorded.startCommit;
        if (tip === undefined || skipped[i] !== undefined || task?.mergedAt !== undefined || history.holds(tip, start)) return;
        moved.push({ kind: "off-start", ref: `refs/heads/${t.branch}`, task: t.id, expected: start, actual: tip, ...(task !== undefined && { worktree: task.worktree }) });
      });
    }
    const [tasks, conflicts] = await Promise.all([
      Promise.all(
        phase.tasks.map((t, i) =>
          taskStatus(
            repo,
            feature,
            t,
            branches[i]!,
            history,
            siblings(i),
            integrationTip,
            recorded.tasks[t.id]?.worktree,
            looks[i]!,
            options.runVerify && { port: recorded.tasks[t.id]?.port, confined: options.runVerify.confined },
          ),
        ),
      ),
      predictConflicts(repo, feature, phase, integrationTip, branches, skipped),
    ]);
    tasks.forEach((t, i) => {
      if (skipped[i] !== undefined) t.skipped = skipped[i];
      withSharedSession(t, recorded.tasks[t.id]?.session);
    });
    phases.push({ index: phase.index, state, tasks, conflicts, readyToSync: readyToSync(tasks, conflicts), totals: totalsOf(tasks, reviews.byPhase.get(phase.index)) });
  }
  // A moved ref stops every sync until it is fixed.
  if (moved.length) for (const p of phases) p.readyToSync = false;
  const movedRefs = await reportRefs(repo.root, moved, { slug: feature.slug, journalDamaged: expected?.journalDamaged === true });
  return {
    slug: feature.slug,
    feature: plan.feature,
    base: plan.base,
    integrationBranch: plan.integrationBranch,
    phases,
    totals: totalsOf(
      phases.flatMap((p) => p.tasks),
      reviews.totalUsd,
    ),
    movedRefs,
    ...(feature.state?.acceptedMoves && { acceptedMoves: feature.state.acceptedMoves }),
  };
}

/** Attempts, tokens, cost and turns from what the hooks and the headless results recorded of a task's sessions here. Pure. */
function usageOf(ledger: HookRecord | undefined, results: SessionResults | undefined, launched: boolean): Pick<TaskStatus, "attempts" | "tokens" | "costUsd" | "turns"> {
  const cost = taskCostUsd(results, undefined);
  return {
    attempts: Math.max(ledger?.starts ?? 0, results?.runs ?? 0, launched ? 1 : 0),
    tokens: ledger ? totalTokens(ledger) : (results?.tokens ?? { ...ZERO_TOKENS }),
    ...(cost !== undefined && { costUsd: cost }),
    ...(results && results.turns > 0 && { turns: results.turns }),
  };
}

/** A session that ran elsewhere (a CI leg, another clone) counts like one here, unless one ran here since. */
function withSharedSession(t: TaskStatus, shared: TaskSession | undefined): void {
  if (!shared || t.attempts > 0) return;
  t.sharedSession = shared;
  t.attempts = 1;
  const cost = taskCostUsd(undefined, shared);
  if (cost !== undefined) t.costUsd = cost;
  if (shared.turns !== undefined) t.turns = shared.turns;
  if (shared.sessionId !== undefined) t.sessionId = shared.sessionId;
}

/** A task of a phase not in progress: only what its sessions used (for the totals), from its ledger and results. */
async function pastTaskStatus(repo: Repo, feature: Feature, task: PlannedTask, shared: TaskSession | undefined): Promise<TaskStatus> {
  const status = initialStatus(task);
  const results = (await readSessionResults(sessionLogPath(repo.commonDir, feature.slug, task.id), true).catch(() => undefined))?.results;
  Object.assign(status, usageOf(readHookRecord(featureDir(repo.commonDir, feature.slug), task.id), results, false));
  withSharedSession(status, shared);
  return status;
}

/** Attempts, tokens and reported cost summed over `tasks`, then the reviewer's cost (`reviewUsd`), in the order run's budget adds them. Pure. */
export function totalsOf(tasks: readonly TaskStatus[], reviewUsd?: number): Totals {
  const totals: Totals = { attempts: 0, tokens: { ...ZERO_TOKENS }, costUsd: 0, costReported: 0, tasks: tasks.length };
  for (const t of tasks) {
    totals.attempts += t.attempts;
    totals.tokens = addTokens(totals.tokens, t.tokens);
    if (t.costUsd !== undefined) {
      totals.costUsd += t.costUsd;
      totals.costReported++;
    }
  }
  if (reviewUsd !== undefined) {
    totals.costUsd += reviewUsd;
    totals.reviewUsd = reviewUsd;
  }
  return totals;
}

/**
 * The conflicts the sync would meet: the phase's branches with commits merged in memory in the
 * order the sync uses, each onto the ones before it (as the preflight does, with the same
 * explanation of each conflict); n merges, not n² pairs.
 */
async function predictConflicts(repo: Repo, feature: Feature, phase: PlannedPhase, integration: string | undefined, branches: BranchFacts[], skipped: Array<string | undefined>): Promise<Conflict[]> {
  if (integration === undefined) return [];
  const recorded = feature.state!.phases[String(phase.index)]!;
  const live = phase.tasks.flatMap((task, i) => (branches[i]!.ahead > 0 && branches[i]!.tip !== undefined && skipped[i] === undefined ? [{ task, tip: branches[i]!.tip!.commit }] : []));
  const startOf = (id: string) => recorded.tasks[id]?.startCommit ?? recorded.startCommit;
  // What the prediction depends on: the commits, where each task started, and how each merges.
  const commits = { integration, branches: live.map((x) => [x.task.id, x.tip, startOf(x.task.id), x.task.merge ?? null] as const) };
  return cachedPrediction(repo.commonDir, feature.slug, phase.index, commits, async () => (await mergeChain(repo.root, feature.plan, phase, integration, live, { startOf })).conflicts);
}

/**
 * Whether a started phase can be synced now, as far as its status shows: every task not skipped
 * has commits beyond the phase's start on a branch that exists, a clean worktree, no change
 * outside what it owns nor a merge of its own the sync cannot check (octopus), no verify failing at its current commit and no headless session still
 * running; and no predicted conflict between tasks that are merged (a skipped task is not). A
 * verify not run yet, or run at an older commit, does not count: the sync runs it. Nor does a
 * headless session that failed after committing: its commits are what the sync checks. A session
 * whose record is damaged may be running: it counts as running.
 */
export function readyToSync(tasks: readonly TaskStatus[], conflicts: readonly Conflict[]): boolean {
  const skipped = new Set(tasks.filter((t) => t.skipped !== undefined).map((t) => t.id));
  const tasksReady = tasks.every(
    (t) =>
      t.skipped !== undefined ||
      (!t.branchMissing &&
        t.ahead > 0 &&
        t.uncommitted.length === 0 &&
        t.outsideOwns.length === 0 &&
        t.octopusMerges === undefined &&
        !(t.verify.kind === "failed" && t.verify.current) &&
        t.session.kind !== "running" &&
        t.session.kind !== "unknown"),
  );
  return tasksReady && conflicts.every((c) => skipped.has(c.task));
}

/** A task's status before anything is known about its branch and worktree. */
function initialStatus(task: PlannedTask): TaskStatus {
  return {
    id: task.id,
    role: task.role,
    branch: task.branch,
    ahead: 0,
    uncommitted: [],
    outsideOwns: [],
    worktreeMissing: false,
    branchMissing: false,
    session: { kind: "not-launched" },
    verify: task.verify ? { kind: "not-run", command: task.verify } : { kind: "none" },
    attempts: 0,
    tokens: { ...ZERO_TOKENS },
  };
}
