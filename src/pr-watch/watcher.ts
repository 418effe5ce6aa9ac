import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { crashPoint } from "../crash-point.js";
import { EnvironmentError, ExitCode, RefusedError } from "../core/errors.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { runStatePath, sessionsDir, watchStatePath } from "../core/state/paths.js";
import { RunStateSchema, WatchStateSchema, type WatchState } from "../core/state/state-schema.js";
import { readJsonFile } from "../feature/store.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import { baseRemote, pushWithLease, remoteTip } from "../git/push.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { gitOk, nulFields } from "../git/run.js";
import { quote, sh } from "../core/text/shell.js";
import { invocationRunning, sessionArgs, spawnSession } from "../session/sessions.js";
import { readSessionRecord } from "../session/headless.js";
import { claudeBinary } from "../session/launch.js";
import { singleLine } from "../core/text/single-line.js";
import { terminalSafe } from "../core/text/terminal.js";
import { budgetStop, budgetStopLines, decideWatch, type WatchAction, type WatchFacts, type WatchItem } from "../core/decide/decide-watch.js";
import { backstopUsd, reachedText, type BudgetState, type FeatureSpend, type Reached } from "../core/budget.js";
import { feedbackPrompt } from "../core/render/feedback-prompt.js";
import { pullRequestFacts } from "./gh.js";

/**
 * Following a feature's pull request: each round reads it with gh, decides with decideWatch whom
 * each check and review comment goes to, hands them to the tasks' sessions, merges their answers
 * into the integration branch and pushes it. Used by `watch` and by `run --pr`; the caller holds
 * the feature's lock.
 */

/** `watch`'s defaults, and `run --pr`'s. */
export const WATCH_DEFAULTS = { rounds: 3, intervalMs: 30_000, timeoutMinutes: 120 } as const;

export interface WatchOptions {
  /** Hand-back rounds at most. */
  rounds: number;
  intervalMs: number;
  timeoutMinutes: number;
  model?: string;
  permissionMode?: string;
  /** The budgets in force, read again before each round: the tasks at theirs (their feedback is the user's), and each session's cap (claude --max-budget-usd). */
  budget?: () => Promise<WatchBudget>;
  /** Where the feature is opened again from. */
  cwd: string;
  /** The command that carries on after a stop, shell-quoted. */
  again: string;
  /** Aborted (run's Ctrl-C): the watch stops at its next step; the sessions it started keep running. */
  signal?: AbortSignal;
}

interface WatchBudget {
  /** Each task at its own budget, with why. */
  reached: ReadonlyMap<string, string>;
  /** The feature's spend against its budget: at it, no session starts. */
  feature: FeatureSpend;
  capUsd(task: string): number | undefined;
}

/** The watch's view of the budgets in force (src/core/budget.ts), each session capped at `sessionCapUsd` too when given. */
export function watchBudget(state: BudgetState, sessionCapUsd?: number): WatchBudget {
  const reached = new Map([...state.tasks].flatMap(([id, t]) => (t.reached?.scope === "task" ? [[id, reachedText(t.reached)] as const] : [])));
  return {
    reached,
    feature: state.feature,
    capUsd: (task) => {
      const caps = [backstopUsd(state, task), sessionCapUsd].filter((c): c is number => c !== undefined);
      return caps.length ? Math.min(...caps) : undefined;
    },
  };
}

/** Where what the watch says goes. */
interface WatchOutput {
  /** Its progress, line by line. */
  say(line: string): void;
  /** What the steps it runs print (a worktree made again). */
  log(line: string): void;
  /** Told once a task's hand-back is recorded, before its session starts. */
  handedBack?(task: string, text: string): Promise<void>;
  /** Told for each item left to the user. */
  forYou?(text: string): Promise<void>;
}

/** How the watch ended: its exit status and what to tell the user (not yet said). */
interface WatchEnd {
  code: ExitCode;
  outcome: "done" | "stopped" | "interrupted";
  lines: string[];
  /** The pull request's head it ended at (done). */
  head?: string;
  /** It stopped at the feature's budget: what was spent against it. */
  budget?: Reached;
}

/** Follows the pull request until it is green and approved, or a bound is reached. The caller holds the feature's lock. */
export async function watchPullRequest(ctx: FeatureContext, options: WatchOptions, out: WatchOutput): Promise<WatchEnd> {
  return new Watcher(ctx, options, out).run();
}

/** What the next round would do (`--dry-run`): changes nothing. */
export async function nextWatchActions(ctx: FeatureContext, options: WatchOptions, out: WatchOutput): Promise<WatchAction[]> {
  const watcher = new Watcher(ctx, options, out);
  await watcher.load();
  return decideWatch(await watcher.gather());
}

export function describeWatch(a: WatchAction): string {
  switch (a.kind) {
    case "hand-back":
      return `hand ${a.items.length} ${a.items.length === 1 ? "item" : "items"} to ${a.task}'s session (${a.items.map(itemName).join("; ")}), then merge its branch and push`;
    case "to-user":
      return `leave ${itemName(a.item)} to you: ${a.reason}`;
    case "push":
      return `push the integration branch (${a.to.slice(0, 12)}) over the pull request's head ${a.from.slice(0, 12)}, with a lease`;
    case "wait":
      return `wait: ${a.reason}`;
    case "done":
      return `done: ${a.reason}`;
    case "stop":
      return `stop: ${a.reason}`;
    case "budget":
      return `stop: ${reachedText(a.reached)}; the feedback for ${a.tasks.join(", ")} waits for you to approve more`;
  }
}

function itemName(item: WatchItem): string {
  return singleLine(item.kind === "check" ? `the failing check ${item.name}` : `${item.author}'s comment on ${item.path}${item.line !== undefined ? `:${item.line}` : ""}`);
}

const stopped = (code: ExitCode, lines: string[]): WatchEnd => ({ code, outcome: "stopped", lines });

class Watcher {
  private state: WatchState = { version: 1, rounds: 0, handed: {}, sessions: {}, pending: {} };
  private claude = "";
  private readonly slug: string;
  private readonly commonDir: string;
  private readonly say: (line?: string) => void;

  constructor(
    private ctx: FeatureContext,
    private readonly options: WatchOptions,
    private readonly out: WatchOutput,
  ) {
    this.slug = ctx.feature.slug;
    this.commonDir = ctx.repo.commonDir;
    this.say = (line = "") => out.say(line);
  }

  async load(): Promise<void> {
    const path = watchStatePath(this.commonDir, this.slug);
    this.state =
      (await readJsonFile(path, WatchStateSchema, `remove ${quote(path)} to start watching afresh (feedback handed out before may then be handed out again)`, MAX_BYTES.watchState)) ?? this.state;
  }

  private save(): Promise<void> {
    return writeFileAtomic(watchStatePath(this.commonDir, this.slug), JSON.stringify(this.state, null, 2) + "\n");
  }

  async gather(): Promise<WatchFacts> {
    const { plan } = this.ctx.feature;
    const root = this.ctx.mainRoot;
    const pr = await pullRequestFacts(root, plan.integrationBranch);
    const integrationTip = await commitOf(`refs/heads/${plan.integrationBranch}`, root);
    if (!integrationTip)
      throw new RefusedError([
        { code: "branch-missing", message: `the integration branch ${plan.integrationBranch} is missing`, fix: "restore it (git reflog, or the backup refs under refs/parallel/) and watch again" },
      ]);
    const relation =
      pr.headOid === integrationTip ? "same" : (await isAncestor(pr.headOid, integrationTip, root)) ? "ahead" : (await isAncestor(integrationTip, pr.headOid, root)) ? "behind" : "diverged";
    const files = new Set(nulFields(await gitOk(["ls-tree", "-r", "-z", "--name-only", integrationTip], root)));
    const budget = await this.options.budget?.();
    return {
      pr,
      tasks: plan.phases.flatMap((p) => p.tasks.map((t) => ({ id: t.id, owns: t.owns }))),
      files,
      handed: new Set(Object.keys(this.state.handed)),
      relation,
      integrationTip,
      rounds: this.state.rounds,
      maxRounds: this.options.rounds,
      ...(budget?.reached.size && { atBudget: budget.reached }),
      ...(budget && { featureBudget: budget.feature }),
    };
  }

  async run(): Promise<WatchEnd> {
    await this.load();
    const deadline = Date.now() + this.options.timeoutMinutes * 60_000;
    round: for (;;) {
      if (this.options.signal?.aborted) return { code: ExitCode.refused, outcome: "interrupted", lines: [] };
      // Sessions a killed watch handed feedback to: waited for, then merged.
      const settled = await this.settlePending();
      if (settled !== undefined) return settled;
      const facts = await this.gather();
      const actions = decideWatch(facts);
      const handBacks = actions.filter((a): a is Extract<WatchAction, { kind: "hand-back" }> => a.kind === "hand-back");
      for (const a of actions) {
        if (a.kind === "to-user") await this.toUser(a.item, a.reason);
        else if (a.kind === "push") {
          const pushed = await this.push(a.from, a.to);
          if (typeof pushed === "object") return pushed;
          if (pushed === "pushed") continue round;
        } else if (a.kind === "done") {
          return { code: ExitCode.ok, outcome: "done", head: facts.pr.headOid, lines: [`${this.slug}: the pull request #${facts.pr.number} (${facts.pr.url}): ${a.reason}.`] };
        } else if (a.kind === "stop") {
          return stopped(ExitCode.refused, [`Stopped: ${terminalSafe(a.reason)}.`, `  ${a.fix}`]);
        } else if (a.kind === "budget") {
          return this.budgetStopped(a);
        }
      }
      if (handBacks.length) {
        await this.handBack(facts, handBacks);
        continue;
      }
      // Pushed before, and gh does not show it yet: a wait like any other.
      const waiting = actions.find((a) => a.kind === "wait") ?? (actions.some((a) => a.kind === "push") ? { reason: "the pull request does not show the pushed commit yet" } : undefined);
      if (waiting && Date.now() >= deadline) {
        return stopped(ExitCode.refused, [`Stopped after ${this.options.timeoutMinutes} minutes: ${waiting.reason}. Carry on with: ${this.options.again}`]);
      }
      await pause(this.options.intervalMs, this.options.signal);
    }
  }

  /** Stopped at the feature's budget: what was handed out stays recorded, and goes to its sessions once more is approved. */
  private budgetStopped(a: Extract<WatchAction, { kind: "budget" }>): WatchEnd {
    return { ...stopped(ExitCode.refused, budgetStopLines(a, this.slug, this.options.again)), budget: a.reached };
  }

  private async toUser(item: WatchItem, reason: string): Promise<void> {
    this.state.handed[item.key] = { to: "user", at: new Date().toISOString() };
    await this.save();
    const text = `For you: ${itemName(item)} (${terminalSafe(reason)}).`;
    this.say(text);
    await this.out.forYou?.(text);
  }

  /** Every task's items at once: recorded as handed before any session starts, then the sessions side by side. */
  private async handBack(facts: WatchFacts, handBacks: ReadonlyArray<{ task: string; items: WatchItem[] }>): Promise<void> {
    const { plan } = this.ctx.feature;
    const at = new Date().toISOString();
    for (const { task, items } of handBacks) {
      const known = this.state.sessions[task] ?? (await this.sessionOf(task));
      const sessionId = known ?? randomUUID();
      const { branch } = this.planned(task).task;
      const tipBefore = await commitOf(`refs/heads/${branch}`, this.ctx.mainRoot);
      if (!tipBefore)
        throw new RefusedError([
          {
            code: "branch-missing",
            task,
            message: `task ${task}'s branch ${branch} is missing`,
            fix: `restore it (git reflog, refs/parallel/${this.slug}/), then ${this.options.again}`,
          },
        ]);
      for (const item of items) this.state.handed[item.key] = { to: task, at };
      this.state.sessions[task] = sessionId;
      const prompt = feedbackPrompt({ number: facts.pr.number, url: facts.pr.url, branch: plan.integrationBranch }, items, known === undefined);
      this.state.pending[task] = { sessionId, tipBefore, items: items.map((i) => i.key), ...(known === undefined && { fresh: true }), prompt };
    }
    this.state.rounds += 1;
    await this.save();
    for (const { task, items } of handBacks) {
      this.say(`${task}: ${describeWatch({ kind: "hand-back", task, items })}.`);
      await this.out.handedBack?.(task, `${task}: the pull request's feedback handed to its session (${items.map(itemName).join("; ")})`);
    }
    crashPoint("watch-after-record");
  }

  /**
   * Each task handed feedback: its session started (unless it was), waited for, and its new
   * commits merged into the integration branch. Returns how the watch ends when it must stop.
   */
  private async settlePending(): Promise<WatchEnd | undefined> {
    const tasks = Object.keys(this.state.pending);
    if (!tasks.length) return undefined;
    const exits: Array<Promise<unknown>> = [];
    const toStart: string[] = [];
    for (const task of tasks) {
      const p = this.state.pending[task]!;
      if (p.pid !== undefined && invocationRunning({ pid: p.pid, ...(p.pidStart !== undefined && { pidStart: p.pidStart }) })) {
        this.say(`${task}: its session (pid ${p.pid}) still runs; waiting for it.`);
        exits.push(waitForExit({ pid: p.pid, ...(p.pidStart !== undefined && { pidStart: p.pidStart }) }, this.options.signal));
      } else if (p.pid === undefined) {
        // Started by a watch killed before it recorded the PID: the session record has it.
        const record = p.spawnedAt !== undefined ? await readSessionRecord(this.commonDir, this.slug, task) : undefined;
        if (record?.pid !== undefined && record.exitCode === undefined && record.sessionId === p.sessionId && invocationRunning({ pid: record.pid }))
          exits.push(waitForExit({ pid: record.pid }, this.options.signal));
        else toStart.push(task);
      }
    }
    // The sessions a killed watch recorded and did not start spend nothing past the feature's budget either (the running ones are waited for).
    const atLimit = toStart.length ? budgetStop((await this.options.budget?.())?.feature, toStart) : undefined;
    if (atLimit) return this.budgetStopped(atLimit);
    for (const task of toStart) exits.push((await this.spawn(task)).exited);
    await Promise.all(exits);
    // Interrupted while the sessions work: they go on, and the next watch waits for them.
    if (this.options.signal?.aborted) return { code: ExitCode.refused, outcome: "interrupted", lines: [] };
    for (const task of tasks) {
      const end = await this.mergeBack(task);
      if (end !== undefined) return end;
    }
    return undefined;
  }

  private async spawn(taskId: string): Promise<{ exited: Promise<unknown> }> {
    const p = this.state.pending[taskId]!;
    const { plan, task, recorded } = this.planned(taskId);
    this.claude ||= await claudeBinary();
    if (!(await pathExists(recorded.worktree))) await this.reopen(taskId);
    const { sandboxArgs, sandboxDecision } = await import("../session/sandbox.js");
    const decision = await sandboxDecision(plan);
    if (decision.note) this.say(`Note: ${decision.note}`);
    const sandbox = decision.use ? await sandboxArgs({ plan, state: this.ctx.feature.state!, commonDir: this.commonDir }, task, recorded.worktree) : [];
    // A new session whose start was not recorded may have begun under its id: a new id then.
    if (p.fresh && p.pid === undefined && p.spawnedAt !== undefined) p.sessionId = this.state.sessions[taskId] = randomUUID();
    p.spawnedAt = new Date().toISOString();
    await this.save();
    // Read here: the session a killed watch left pending starts before any round gathers.
    const budget = await this.options.budget?.();
    const invocation = { n: 0, kind: p.fresh ? ("launch" as const) : ("resume" as const), prompt: p.prompt, logOffset: 0, recordedAt: p.spawnedAt };
    const args = sessionArgs(invocation, p.sessionId, {
      claude: this.claude,
      claudeArgs: [...sandbox, ...(task.roleKind === "agent" ? ["--agent", task.agent] : [])],
      permissionMode: this.options.permissionMode,
      model: this.options.model,
      maxBudgetUsd: budget?.capUsd(taskId),
    });
    await mkdir(sessionsDir(this.commonDir, this.slug), { recursive: true });
    const started = await spawnSession(this.commonDir, this.slug, taskId, recorded.worktree, args, this.claude, p.sessionId);
    if (started.pid === undefined) throw new EnvironmentError(`claude could not be started in ${recorded.worktree} (exit ${await started.exited})`, `check that ${this.claude} runs, then watch again`);
    p.pid = started.pid;
    if (started.pidStart !== undefined) p.pidStart = started.pidStart;
    await this.save();
    crashPoint("watch-after-spawn");
    this.say(`${taskId}: session ${p.fresh ? "started" : "resumed"} (${p.sessionId}) in ${recorded.worktree}.`);
    // The session runs in a session of its own and does not keep this process alive: polled as well.
    const running = { pid: started.pid, ...(started.pidStart !== undefined && { pidStart: started.pidStart }) };
    return { exited: Promise.race([started.exited, waitForExit(running, this.options.signal)]) };
  }

  /** The task's worktree was removed after its merge: made again on its branch, as `start` makes one. */
  private async reopen(taskId: string): Promise<void> {
    const { phase, recorded } = this.planned(taskId);
    const { startPhase } = await import("../start/start-phase.js");
    const { permissionMode, model } = this.options;
    const choices = {
      task: taskId,
      reopen: true,
      launch: "headless" as const,
      deps: "auto" as const,
      launchSessions: false,
      ...(permissionMode !== undefined && { permissionMode }),
      ...(model !== undefined && { model }),
    };
    await startPhase(await openFeature(this.slug, this.options.cwd), phase.index, choices, { say: (line = "") => this.out.say(line), log: (line: string) => this.out.log(line) });
    if (!(await pathExists(recorded.worktree))) {
      throw new RefusedError([
        {
          code: "worktree-missing",
          task: taskId,
          message: `the worktree ${recorded.worktree} is missing and could not be made again`,
          fix: sh`git worktree add ${recorded.worktree} ${this.planned(taskId).task.branch}`,
        },
      ]);
    }
    this.ctx = await openFeature(this.slug, this.options.cwd);
  }

  /** A task's new commits into the integration branch (verified, published by compare-and-swap); none: the feedback is the user's. */
  private async mergeBack(taskId: string): Promise<WatchEnd | undefined> {
    const p = this.state.pending[taskId]!;
    const { plan, task, recorded } = this.planned(taskId);
    const tip = await commitOf(`refs/heads/${task.branch}`, this.ctx.mainRoot);
    const done = async () => {
      delete this.state.pending[taskId];
      await this.save();
    };
    const { again } = this.options;
    if (tip === undefined || tip === p.tipBefore) {
      this.say(`${taskId}: its session made no new commit; what it was handed is yours to look at (${p.items.join(", ")}).`);
      await done();
      return undefined;
    }
    // Checked as a sync checks a task: its new files inside its owned paths, its worktree clean, its verify passing.
    const problems = await this.taskProblems(taskId);
    if (problems.length) {
      await done();
      return stopped(ExitCode.refused, [
        `Stopped: ${taskId}'s session answered the feedback, but its branch cannot be merged; nothing was pushed:`,
        ...problems.map((p) => `  - ${terminalSafe(p.message)}${p.fix ? `\n    fix: ${terminalSafe(p.fix)}` : ""}`),
        `  then: ${again}`,
      ]);
    }
    const { mergeTask } = await import("../sync/merge-task.js");
    const outcome = await mergeTask({
      commonDir: this.commonDir,
      mainRoot: this.ctx.mainRoot,
      plan,
      taskId,
      ...(recorded.startCommit !== undefined && { startCommit: recorded.startCommit }),
      dependencySources: [this.ctx.mainRoot, recorded.worktree],
      log: (line) => this.say(`  [${taskId}] ${line}`),
    });
    this.ctx = await openFeature(this.slug, this.options.cwd);
    switch (outcome.kind) {
      case "merged":
        this.say(`${taskId}: merged into ${plan.integrationBranch} at ${outcome.commit.slice(0, 12)}${outcome.verifiedWith ? ` (verified: ${outcome.verifiedWith})` : ""}.`);
        await done();
        return undefined;
      case "raced":
        this.say(`${taskId}: ${plan.integrationBranch} moved during the merge (nothing was overwritten); merging again.`);
        return this.mergeBack(taskId);
      case "conflict":
        await done();
        return stopped(ExitCode.refused, [
          `Stopped: ${taskId}'s fix conflicts with ${plan.integrationBranch} in ${outcome.files.join(", ")}.`,
          `  merge it by hand in ${quote(recorded.worktree)} (git merge ${quote(plan.integrationBranch)}), commit, then: ${again}`,
        ]);
      case "verifyFailed":
        await done();
        return stopped(ExitCode.verifyFailed, [
          `Stopped: ${plan.integrationBranch} with ${taskId}'s fix merged fails \`${outcome.command}\`${outcome.exitCode !== undefined ? ` (exit ${outcome.exitCode})` : ""}; nothing was pushed.`,
          ...outcome.tail
            .split("\n")
            .filter(Boolean)
            .slice(-8)
            .map((line) => `    ${terminalSafe(line)}`),
          `  fix it in ${quote(recorded.worktree)}, commit, then: ${again}`,
        ]);
    }
  }

  /** The sync's preflight of one task of its (synced) phase: only its own new commits count, the others are left out. */
  private async taskProblems(taskId: string): Promise<Array<{ message: string; fix?: string }>> {
    const { plan, phase, recorded } = this.planned(taskId);
    const state = this.ctx.feature.state!;
    const ps = state.phases[String(phase.index)]!;
    const [{ preflight }, { loadExpectedRefs }, { confinementDecision }] = await Promise.all([import("../sync/preflight.js"), import("../feature/backstop.js"), import("../session/sandbox.js")]);
    const expected = await loadExpectedRefs(this.commonDir, state);
    const pre = await preflight(this.ctx.repo, plan, phase, {
      slug: this.slug,
      startCommit: ps.startCommit,
      taskStarts: { [taskId]: recorded.startCommit },
      worktrees: { [taskId]: (await pathExists(recorded.worktree)) ? recorded.worktree : undefined },
      allowOutsideOwns: false,
      runVerify: { confined: (await confinementDecision(plan)).confine, ports: { [taskId]: recorded.port } },
      skipped: new Set(phase.tasks.filter((t) => t.id !== taskId).map((t) => t.id)),
      ...(expected && { expected }),
    });
    return pre.problems.filter((p) => p.task === taskId);
  }

  /** The integration branch over the pull request's head, with a lease on that head. */
  private async push(from: string, to: string): Promise<WatchEnd | "pushed" | "there"> {
    const { plan } = this.ctx.feature;
    const root = this.ctx.mainRoot;
    const ref = `refs/heads/${plan.integrationBranch}`;
    const { remote } = await baseRemote(root, plan.base);
    if (remote === undefined)
      throw new RefusedError([
        {
          code: "no-push-remote",
          message: `there is no remote to push ${plan.integrationBranch} to: ${plan.base} has no upstream remote and there is no \`origin\``,
          fix: `add the remote the pull request's branch is on (git remote add origin <url>), then ${this.options.again}`,
        },
      ]);
    // Pushed already, and gh does not show it yet: nothing to do but look again.
    if ((await remoteTip(root, remote, ref)) === to) return "there";
    const pushed = await pushWithLease(root, remote, ref, from);
    if (!pushed.pushed) {
      return stopped(ExitCode.refused, [
        `Stopped: ${remote}'s ${plan.integrationBranch} is no longer at ${from.slice(0, 12)}, so nothing was pushed (someone pushed to it).`,
        `  fetch it, merge it into ${plan.integrationBranch}, then: ${this.options.again}`,
      ]);
    }
    for (const line of pushed.said) this.say(terminalSafe(line));
    this.say(`Pushed ${plan.integrationBranch} (${to.slice(0, 12)}) to ${remote}: the pull request's checks run again.`);
    return "pushed";
  }

  /** The session to resume: the one `run` used last, else a headless `start`'s. */
  private async sessionOf(taskId: string): Promise<string | undefined> {
    const path = runStatePath(this.commonDir, this.slug);
    const run = await readJsonFile(path, RunStateSchema, `remove ${quote(path)} (the run's bookkeeping; the feature's state is kept)`, MAX_BYTES.runState);
    return run?.tasks[taskId]?.sessionId ?? (await readSessionRecord(this.commonDir, this.slug, taskId))?.sessionId;
  }

  private planned(taskId: string) {
    const { plan, state } = this.ctx.feature;
    const phase = plan.phases.find((p) => p.tasks.some((t) => t.id === taskId))!;
    const task = phase.tasks.find((t) => t.id === taskId)!;
    const recorded = state!.phases[String(phase.index)]!.tasks[taskId]!;
    return { plan, phase, task, recorded };
  }
}

/** Resolves once the process is gone (a session a killed watch started: not our child), or the watch is aborted. */
async function waitForExit(inv: { pid: number; pidStart?: string }, signal: AbortSignal | undefined): Promise<void> {
  while (invocationRunning(inv) && !signal?.aborted) await pause(500, signal);
}

/** Resolves after ms, or at once when the signal aborts (no timer is left behind). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
