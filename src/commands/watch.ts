import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { crashPoint } from "../crash-point.js";
import { EnvironmentError, ExitCode, RefusedError } from "../core/errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
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
import { dryRunText } from "../core/render/dry-run.js";
import { quote, sh } from "../core/text/shell.js";
import { invocationRunning, sessionArgs, spawnSession } from "../session/sessions.js";
import { readSessionRecord } from "../session/headless.js";
import { which } from "../session/launch.js";
import { singleLine } from "../core/text/single-line.js";
import { terminalSafe } from "../core/text/terminal.js";
import { decideWatch, type WatchAction, type WatchFacts, type WatchItem } from "../core/decide/decide-watch.js";
import { feedbackPrompt } from "../core/render/feedback-prompt.js";
import { pullRequestFacts } from "../watch/gh.js";
import type { Io } from "../core/io.js";
import { count, dollars, str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "watch",
  synopsis: ["[slug] [--rounds N] [--interval S] [--timeout-minutes M]", "[--model M] [--permission-mode M] [--session-budget-usd Y] [--dry-run]"],
  summary: ["After `finish --pr`: follow the pull request's checks and review comments (with gh) and", "hand each to the session that owns the files it concerns, until it is green and approved."],
  details: [
    "Each round reads the pull request of the integration branch with gh: its checks (a failing GitHub Actions job's log too) and its review comments on files. A comment goes to the task whose owned paths cover its file; a failing check to the tasks owning the files its log names. Anything else (no owner, or a comment by someone who does not own, belong to or collaborate on the repository) is listed for you. Each item goes out once, recorded in <state>/watch/state.json.",
    "A task's session (the one `run` or a headless `start` left, else a new one) is resumed in its worktree, made again from its branch when it is gone, with the feedback quoted as data. Its new commits are merged into the integration branch (the plan's verify on the result, a compare-and-swap publish), and the branch is pushed with a lease: a push someone else made meanwhile is never overwritten.",
    "It ends with exit 0 once every check passes and the pull request is approved (or needs no review), or is merged; with exit 4 when it needs you (a check no session can fix, a closed pull request, --rounds reached, --timeout-minutes passed). Killed at any moment, it can be run again: items handed out are not handed again, and a session it started is waited for and merged.",
  ],
  options: [
    { name: "rounds", type: "string", value: "N", text: "Hand-back rounds at most (default 3); a round hands every new item out at once." },
    { name: "interval", type: "string", value: "S", text: "Seconds between two looks at the pull request while checks run or reviews are awaited (default 30)." },
    { name: "timeout-minutes", type: "string", value: "M", text: "Stop waiting (exit 4) after M minutes (default 120)." },
    { name: "model", type: "string", value: "M", text: "Passed to the sessions (claude --model)." },
    { name: "permission-mode", type: "string", value: "M", text: "Passed to the sessions (claude --permission-mode)." },
    { name: "session-budget-usd", type: "string", value: "Y", text: "Passed to each session it resumes or starts as Claude Code's --max-budget-usd (a cap on that one run of the session)." },
    { name: "dry-run", type: "boolean", text: "Print what the pull request asks for and whom it would go to; change nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const interval = values.interval === undefined ? 30 : Number(str(values.interval));
  if (!Number.isFinite(interval) || interval < 0 || interval > 3600) throw usageError("--interval takes a number of seconds from 0 to 3600");
  return watchCommand(
    {
      target: positionals[0],
      rounds: values.rounds === undefined ? 3 : count("--rounds", str(values.rounds)!),
      intervalMs: interval * 1000,
      timeoutMinutes: values["timeout-minutes"] === undefined ? 120 : count("--timeout-minutes", str(values["timeout-minutes"])!),
      model: str(values.model),
      permissionMode: str(values["permission-mode"]),
      sessionBudgetUsd: dollars("--session-budget-usd", str(values["session-budget-usd"])),
      dryRun: values["dry-run"] === true,
    },
    io,
  );
}

interface WatchOptions {
  target?: string;
  rounds: number;
  intervalMs: number;
  timeoutMinutes: number;
  model?: string;
  permissionMode?: string;
  sessionBudgetUsd?: number;
  dryRun: boolean;
}

function describeWatch(a: WatchAction): string {
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
  }
}

function itemName(item: WatchItem): string {
  return singleLine(item.kind === "check" ? `the failing check ${item.name}` : `${item.author}'s comment on ${item.path}${item.line !== undefined ? `:${item.line}` : ""}`);
}

/** `claude-parallel watch`: gathers the pull request, decides with decideWatch, and does it, round after round. */
async function watchCommand(options: WatchOptions, io: Io): Promise<ExitCode> {
  const ctx = await openFeature(options.target, io.cwd);
  const { feature, repo } = ctx;
  const say = (line = "") => io.stdout(line + "\n");
  if (feature.finishedAndCleaned !== undefined || feature.state?.finishedAt !== undefined) {
    say(`${feature.slug} is finished: its work is in ${feature.plan.base}. Nothing to watch.`);
    return ExitCode.ok;
  }
  const unsynced = feature.plan.phases.find((p) => feature.state?.phases[String(p.index)]?.syncedAt === undefined);
  if (!feature.state || unsynced) {
    throw new RefusedError([
      {
        code: "phase-not-synced",
        message: `${feature.slug} has no pull request to watch yet: phase ${unsynced?.index ?? 1} is not synced`,
        fix: `carry it to the pull request first: ${sh`claude-parallel run ${feature.slug} --pr`}, then ${sh`claude-parallel finish ${feature.slug} --pr`}`,
      },
    ]);
  }
  if (options.dryRun) {
    const watcher = new Watcher(ctx, options, io);
    await watcher.load();
    const actions = decideWatch(await watcher.gather());
    io.stdout(dryRunText(`watch ${feature.slug}`, actions, describeWatch));
    return ExitCode.ok;
  }
  const release = await acquireFeatureLock(repo.commonDir, feature.slug, "watch");
  try {
    return await new Watcher(await openFeature(feature.slug, io.cwd, { repo }), options, io).run();
  } finally {
    await release();
  }
}

class Watcher {
  private state: WatchState = { version: 1, rounds: 0, handed: {}, sessions: {}, pending: {} };
  private claude = "";
  private readonly slug: string;
  private readonly commonDir: string;
  private readonly say: (line?: string) => void;

  constructor(
    private ctx: FeatureContext,
    private readonly options: WatchOptions,
    private readonly io: Io,
  ) {
    this.slug = ctx.feature.slug;
    this.commonDir = ctx.repo.commonDir;
    this.say = (line = "") => io.stdout(line + "\n");
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
    return {
      pr,
      tasks: plan.phases.flatMap((p) => p.tasks.map((t) => ({ id: t.id, owns: t.owns }))),
      files,
      handed: new Set(Object.keys(this.state.handed)),
      relation,
      integrationTip,
      rounds: this.state.rounds,
      maxRounds: this.options.rounds,
    };
  }

  async run(): Promise<ExitCode> {
    await this.load();
    const deadline = Date.now() + this.options.timeoutMinutes * 60_000;
    round: for (;;) {
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
          if (typeof pushed === "number") return pushed;
          if (pushed === "pushed") continue round;
        } else if (a.kind === "done") {
          this.say(`${this.slug}: the pull request #${facts.pr.number} (${facts.pr.url}): ${a.reason}.`);
          return ExitCode.ok;
        } else if (a.kind === "stop") {
          this.say(`Stopped: ${terminalSafe(a.reason)}.`);
          this.say(`  ${a.fix}`);
          return ExitCode.refused;
        }
      }
      if (handBacks.length) {
        await this.handBack(facts, handBacks);
        continue;
      }
      // Pushed before, and gh does not show it yet: a wait like any other.
      const waiting = actions.find((a) => a.kind === "wait") ?? (actions.some((a) => a.kind === "push") ? { reason: "the pull request does not show the pushed commit yet" } : undefined);
      if (waiting && Date.now() >= deadline) {
        this.say(`Stopped after ${this.options.timeoutMinutes} minutes: ${waiting.reason}. Watch again with: claude-parallel watch ${quote(this.slug)}`);
        return ExitCode.refused;
      }
      await new Promise((r) => setTimeout(r, this.options.intervalMs));
    }
  }

  private async toUser(item: WatchItem, reason: string): Promise<void> {
    this.state.handed[item.key] = { to: "user", at: new Date().toISOString() };
    await this.save();
    this.say(`For you: ${itemName(item)} (${terminalSafe(reason)}).`);
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
            fix: `restore it (git reflog, refs/parallel/${this.slug}/), then ${sh`claude-parallel watch ${this.slug}`}`,
          },
        ]);
      for (const item of items) this.state.handed[item.key] = { to: task, at };
      this.state.sessions[task] = sessionId;
      const prompt = feedbackPrompt({ number: facts.pr.number, url: facts.pr.url, branch: plan.integrationBranch }, items, known === undefined);
      this.state.pending[task] = { sessionId, tipBefore, items: items.map((i) => i.key), ...(known === undefined && { fresh: true }), prompt };
      this.say(`${task}: ${describeWatch({ kind: "hand-back", task, items })}.`);
    }
    this.state.rounds += 1;
    await this.save();
    crashPoint("watch-after-record");
  }

  /**
   * Each task handed feedback: its session started (unless it was), waited for, and its new
   * commits merged into the integration branch. Returns an exit code when the watch must stop.
   */
  private async settlePending(): Promise<ExitCode | undefined> {
    const tasks = Object.keys(this.state.pending);
    if (!tasks.length) return undefined;
    const exits: Array<Promise<unknown>> = [];
    for (const task of tasks) {
      const p = this.state.pending[task]!;
      if (p.pid !== undefined && invocationRunning({ pid: p.pid, ...(p.pidStart !== undefined && { pidStart: p.pidStart }) })) {
        this.say(`${task}: its session (pid ${p.pid}) still runs; waiting for it.`);
        exits.push(waitForExit({ pid: p.pid, ...(p.pidStart !== undefined && { pidStart: p.pidStart }) }));
      } else if (p.pid === undefined) {
        // Started by a watch killed before it recorded the PID: the session record has it.
        const record = p.spawnedAt !== undefined ? await readSessionRecord(this.commonDir, this.slug, task) : undefined;
        if (record?.pid !== undefined && record.exitCode === undefined && record.sessionId === p.sessionId && invocationRunning({ pid: record.pid })) exits.push(waitForExit({ pid: record.pid }));
        else exits.push((await this.spawn(task)).exited);
      }
    }
    await Promise.all(exits);
    for (const task of tasks) {
      const exit = await this.mergeBack(task);
      if (exit !== undefined) return exit;
    }
    return undefined;
  }

  private async spawn(taskId: string): Promise<{ exited: Promise<unknown> }> {
    const p = this.state.pending[taskId]!;
    const { plan, task, recorded } = this.planned(taskId);
    if (!this.claude) {
      const claude = await which("claude");
      if (!claude) throw new EnvironmentError("the `claude` command is not on PATH", "install Claude Code (npm install -g @anthropic-ai/claude-code)");
      this.claude = claude;
    }
    if (!(await pathExists(recorded.worktree))) await this.reopen(taskId);
    const { sandboxArgs, sandboxDecision } = await import("../session/sandbox.js");
    const decision = await sandboxDecision(plan);
    if (decision.note) this.say(`Note: ${decision.note}`);
    const sandbox = decision.use ? await sandboxArgs({ plan, state: this.ctx.feature.state!, commonDir: this.commonDir }, task, recorded.worktree) : [];
    // A new session whose start was not recorded may have begun under its id: a new id then.
    if (p.fresh && p.pid === undefined && p.spawnedAt !== undefined) p.sessionId = this.state.sessions[taskId] = randomUUID();
    p.spawnedAt = new Date().toISOString();
    await this.save();
    const invocation = { n: 0, kind: p.fresh ? ("launch" as const) : ("resume" as const), prompt: p.prompt, logOffset: 0, recordedAt: p.spawnedAt };
    const args = sessionArgs(invocation, p.sessionId, {
      claude: this.claude,
      claudeArgs: [...sandbox, ...(task.roleKind === "agent" ? ["--agent", task.agent] : [])],
      permissionMode: this.options.permissionMode,
      model: this.options.model,
      maxBudgetUsd: this.options.sessionBudgetUsd,
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
    return { exited: Promise.race([started.exited, waitForExit(running)]) };
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
    const out = { say: (line = "") => this.io.stdout(line + "\n"), log: (line: string) => this.io.stderr(line + "\n") };
    await startPhase(await openFeature(this.slug, this.io.cwd), phase.index, choices, out);
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
    this.ctx = await openFeature(this.slug, this.io.cwd);
  }

  /** A task's new commits into the integration branch (verified, published by compare-and-swap); none: the feedback is the user's. */
  private async mergeBack(taskId: string): Promise<ExitCode | undefined> {
    const p = this.state.pending[taskId]!;
    const { plan, task, recorded } = this.planned(taskId);
    const tip = await commitOf(`refs/heads/${task.branch}`, this.ctx.mainRoot);
    const done = async () => {
      delete this.state.pending[taskId];
      await this.save();
    };
    if (tip === undefined || tip === p.tipBefore) {
      this.say(`${taskId}: its session made no new commit; what it was handed is yours to look at (${p.items.join(", ")}).`);
      await done();
      return undefined;
    }
    // Checked as a sync checks a task: its new files inside its owned paths, its worktree clean, its verify passing.
    const problems = await this.taskProblems(taskId);
    if (problems.length) {
      await done();
      this.say(`Stopped: ${taskId}'s session answered the feedback, but its branch cannot be merged; nothing was pushed:`);
      for (const p of problems) this.say(`  - ${terminalSafe(p.message)}${p.fix ? `\n    fix: ${terminalSafe(p.fix)}` : ""}`);
      this.say(`  then: claude-parallel watch ${quote(this.slug)}`);
      return ExitCode.refused;
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
    this.ctx = await openFeature(this.slug, this.io.cwd);
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
        this.say(`Stopped: ${taskId}'s fix conflicts with ${plan.integrationBranch} in ${outcome.files.join(", ")}.`);
        this.say(`  merge it by hand in ${quote(recorded.worktree)} (git merge ${quote(plan.integrationBranch)}), commit, then: claude-parallel watch ${quote(this.slug)}`);
        return ExitCode.refused;
      case "verifyFailed":
        await done();
        this.say(
          `Stopped: ${plan.integrationBranch} with ${taskId}'s fix merged fails \`${outcome.command}\`${outcome.exitCode !== undefined ? ` (exit ${outcome.exitCode})` : ""}; nothing was pushed.`,
        );
        for (const line of outcome.tail.split("\n").filter(Boolean).slice(-8)) this.say(`    ${terminalSafe(line)}`);
        this.say(`  fix it in ${quote(recorded.worktree)}, commit, then: claude-parallel watch ${quote(this.slug)}`);
        return ExitCode.verifyFailed;
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
  private async push(from: string, to: string): Promise<ExitCode | "pushed" | "there"> {
    const { plan } = this.ctx.feature;
    const root = this.ctx.mainRoot;
    const ref = `refs/heads/${plan.integrationBranch}`;
    const { remote } = await baseRemote(root, plan.base);
    if (remote === undefined)
      throw new RefusedError([
        {
          code: "no-push-remote",
          message: `there is no remote to push ${plan.integrationBranch} to: ${plan.base} has no upstream remote and there is no \`origin\``,
          fix: `add the remote the pull request's branch is on (git remote add origin <url>), then ${sh`claude-parallel watch ${this.slug}`}`,
        },
      ]);
    // Pushed already, and gh does not show it yet: nothing to do but look again.
    if ((await remoteTip(root, remote, ref)) === to) return "there";
    const pushed = await pushWithLease(root, remote, ref, from);
    if (!pushed.pushed) {
      this.say(`Stopped: ${remote}'s ${plan.integrationBranch} is no longer at ${from.slice(0, 12)}, so nothing was pushed (someone pushed to it).`);
      this.say(`  fetch it, merge it into ${plan.integrationBranch}, then: claude-parallel watch ${quote(this.slug)}`);
      return ExitCode.refused;
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

/** Resolves once the process is gone (a session a killed watch started: not our child). */
async function waitForExit(inv: { pid: number; pidStart?: string }): Promise<void> {
  while (invocationRunning(inv)) await new Promise((r) => setTimeout(r, 500));
}
