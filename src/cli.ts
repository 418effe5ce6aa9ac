import { parseArgs } from "node:util";
import { CliError, ExitCode, InputError, systemError } from "./errors.js";
import { helperPath } from "./self.js";
import { didYouMean } from "./text/suggest.js";
import { terminalSafe } from "./text/terminal.js";

// Each command's code is imported when that command runs, so a start parses only what it uses.

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === "string" ? __VERSION__ : "dev";

export interface Io {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Set when stdout is a terminal: replaces the whole screen with `text` (a live view). */
  redraw?: (text: string) => void;
}

type Values = Record<string, string | boolean | undefined>;

interface OptionHelp {
  /** The long name, without `--`. */
  name: string;
  type: "boolean" | "string";
  /** The value's placeholder in help (`N`, `CMD`), for string options. */
  value?: string;
  text: string;
}

interface CommandSpec {
  name: string;
  /** Other spellings that run it (`-v` for `--version`). */
  aliases?: string[];
  /** What follows `claude-parallel <name>`, one string per line (continuations align under the first). */
  synopsis: string[];
  /** The general usage's lines about it. */
  summary: string[];
  /** The summary sits on the synopsis line in the general usage (short commands). */
  inline?: boolean;
  /** Left out of the general usage (still has its own help). */
  unlisted?: boolean;
  /** What `<command> --help` says it does, beyond the summary: paragraphs. */
  details: string[];
  options: OptionHelp[];
  /** How many positional arguments it takes. */
  positionals: number;
  /** Its arguments are not checked (context must never fail: a `!` line splices its output). */
  ignoresArguments?: boolean;
  /** The exit codes it can end with (1, a bug, is always possible). */
  exits: ExitCode[];
  run: (values: Values, positionals: string[], io: Io) => Promise<ExitCode>;
}

const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);

/** Every command, in the order the usage lists them: its parsing, its help and its code. */
const TABLE: CommandSpec[] = [
  {
    name: "plan",
    synopsis: ["<plan.yaml> [--json] [--no-write]"],
    summary: ["Validate a plan, group its tasks into phases and print the execution plan.", "Also writes it to .parallel/<slug>/PLAN.md (not with --no-write)."],
    details: [
      "Prints the Parallel Execution Plan as Markdown: the phases, one session per task with its worktree, branch, task and output, the commands that create the worktrees and start the sessions, the sync points between phases, and the decisions the planner made. Changes nothing in git.",
    ],
    options: [
      { name: "json", type: "boolean", text: "Print the execution plan as JSON instead of Markdown." },
      { name: "no-write", type: "boolean", text: "Do not write .parallel/<slug>/PLAN.md." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment],
    async run(values, positionals, io) {
      const { planCommand, planUsageError } = await import("./commands/plan.js");
      if (!positionals[0]) throw planUsageError();
      return planCommand({ file: positionals[0], json: values.json === true, write: values["no-write"] !== true }, io);
    },
  },
  {
    name: "start",
    synopsis: ["[plan-or-slug] [--phase N] [--launch print|tmux|headless]", "[--deps auto|none] [--dry-run] [--permission-mode M] [--model M]"],
    summary: [
      "Create the phase's branches and worktrees from the integration branch, write each",
      "session's brief, copy .worktreeinclude files, prepare dependencies, start the sessions.",
    ],
    details: [
      "Without an argument it takes the feature that has started, or the only plan under .parallel/; the phase defaults to the first one not synced yet. The first start freezes the plan and creates the integration branch from base. Running it again finishes what is missing; it refuses (exit 4, nothing changed) when a path or branch stands in the way.",
    ],
    options: [
      { name: "phase", type: "string", value: "N", text: "Start phase N (default: the first phase not synced yet)." },
      { name: "launch", type: "string", value: "MODE", text: "print (default): print each session's command; tmux: one tmux window per session; headless: background `claude -p` sessions." },
      { name: "deps", type: "string", value: "auto|none", text: "auto (default): give each worktree installed dependencies (a copy or npm/pnpm/yarn install); none: leave them out." },
      { name: "dry-run", type: "boolean", text: "Say what it would do and change nothing." },
      { name: "permission-mode", type: "string", value: "M", text: "Passed to headless sessions (claude --permission-mode)." },
      { name: "model", type: "string", value: "M", text: "Passed to headless sessions (claude --model)." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      const launch = oneOf("--launch", str(values.launch) ?? "print", ["print", "tmux", "headless"] as const);
      const deps = oneOf("--deps", str(values.deps) ?? "auto", ["auto", "none"] as const);
      const { startCommand } = await import("./commands/start.js");
      return startCommand(
        {
          target: positionals[0],
          phase: values.phase === undefined ? undefined : phaseNumber(str(values.phase)!),
          launch,
          deps,
          dryRun: values["dry-run"] === true,
          permissionMode: str(values["permission-mode"]),
          model: str(values.model),
        },
        io,
      );
    },
  },
  {
    name: "status",
    synopsis: ["[slug] [--json] [--verify]", "[slug] --watch [--interval SECONDS]"],
    summary: [
      "Where every session stands: commits, uncommitted changes, files changed outside the",
      "task's owned paths, verify results (--verify runs them now), headless sessions, and",
      "predicted merge conflicts.",
    ],
    details: [
      "Only reads (except --verify, which runs each live task's verify command and records the result). Without a slug it reports every started feature and always exits 0.",
      "--watch keeps reporting until interrupted (Ctrl-C): on a terminal it redraws the report in place; otherwise it prints the report once, then one line per change.",
    ],
    options: [
      { name: "json", type: "boolean", text: "Print the report as JSON." },
      { name: "verify", type: "boolean", text: "Run each live task's verify command in its worktree now, and record the result." },
      { name: "watch", type: "boolean", text: "Keep reporting until interrupted." },
      { name: "interval", type: "string", value: "SECONDS", text: "How often --watch looks again (default 2)." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      const { statusCommand } = await import("./commands/status.js");
      const watch = values.watch === true;
      if (!watch && values.interval !== undefined) throw usageError("--interval goes with --watch", "add --watch, or leave --interval out");
      if (watch && (values.json === true || values.verify === true)) throw usageError("--watch does not go with --json or --verify", "watch the report, or print it once with --json / --verify");
      const interval = values.interval === undefined ? 2 : Number(values.interval);
      if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600) throw usageError(`--interval must be a number of seconds from 0.2 to 3600, not \`${String(values.interval)}\``, "for example --interval 5");
      if (watch) {
        const { watchStatus } = await import("./commands/status-watch.js");
        return watchStatus({ slug: positionals[0], intervalMs: Math.round(interval * 1000) }, io);
      }
      return statusCommand({ slug: positionals[0], json: values.json === true, verify: values.verify === true }, io);
    },
  },
  {
    name: "sync",
    synopsis: ["[slug] [--phase N] [--dry-run] [--no-verify] [--verify CMD]", "[--keep-worktrees] [--no-next] [--allow-outside-owns]"],
    summary: ["Check the phase's branches, predict conflicts, merge them in order into the", "integration branch, verify the result, publish it, and start the next phase."],
    details: [
      "The preflight changes nothing: clean worktrees, a commit on every branch, only owned files changed, each task's verify passing, and the merges done in memory to find conflicts. Then the plan's verify runs on the merged result (exit 5 and nothing published if it fails), the result is published with a compare-and-swap, the branches are backed up under refs/parallel/, and the phase's worktrees are removed when clean and merged. Safe to run again after an interruption.",
    ],
    options: [
      { name: "phase", type: "string", value: "N", text: "Sync phase N (default: the phase in progress)." },
      { name: "dry-run", type: "boolean", text: "Run the preflight only and change nothing." },
      { name: "no-verify", type: "boolean", text: "Skip the verify commands (the tasks' and the merged result's)." },
      { name: "verify", type: "string", value: "CMD", text: "Verify the merged result with CMD instead of the plan's verify." },
      { name: "keep-worktrees", type: "boolean", text: "Keep the phase's worktrees after the merge." },
      { name: "no-next", type: "boolean", text: "Do not start the next phase." },
      { name: "allow-outside-owns", type: "boolean", text: "Merge branches that changed files outside their task's owned paths." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
    async run(values, positionals, io) {
      const { syncCommand } = await import("./commands/sync.js");
      return syncCommand(
        {
          slug: positionals[0],
          phase: values.phase === undefined ? undefined : phaseNumber(str(values.phase)!),
          dryRun: values["dry-run"] === true,
          verify: values["no-verify"] !== true,
          verifyCommand: str(values.verify),
          keepWorktrees: values["keep-worktrees"] === true,
          next: values["no-next"] !== true,
          allowOutsideOwns: values["allow-outside-owns"] === true,
        },
        io,
      );
    },
  },
  {
    name: "run",
    synopsis: ["[plan-or-slug] [--attempts N] [--max-budget-usd X] [--task-budget-usd Y]", "[--model M] [--permission-mode M] [--max-parallel N] [--stop-sessions]", "[--rolling] [--no-finish | --pr] [--json] [--detach] [--dry-run]"],
    summary: ["Carry the feature to the end unattended: start each phase with headless sessions, hand", "every problem back to the session that caused it, sync, and finish."],
    details: [
      "Each task gets a headless `claude -p` session. When one ends, its task is checked like the sync's preflight (committed, clean, inside its owned paths, its verify passing); if something is wrong the same session is resumed with what is wrong and the failing output's tail. Once every task of the phase passes, the phase is synced: a conflict goes back to the later task's session (merge the other branch, keep both sides' intent), a merged result failing verify to the culprit's. Then the next phase, and finally `finish`.",
      "With --rolling there are no barriers between phases: a task starts, on a branch from the integration branch as it is then, as soon as every task it waits for (dependsOn, contracts, overlapping owned paths earlier in the plan) is merged; a task whose check passes is merged alone (one at a time: a merge queue, the plan's verify on the result) while the other sessions keep working. A conflict or a failing verify goes back to that task's session. A phase is recorded as synced once all its tasks are merged; the report shows when each task started and merged.",
      "It stops with exit 4 and a report (what failed, where, how to continue by hand) when a task still fails after --attempts resumes of the same problem, when the spent cost reaches --max-budget-usd, or when interrupted (Ctrl-C, SIGTERM): nothing is lost, every session stays resumable, and running it again continues where it stopped (sessions still running are adopted). Events go to <state>/run/events.jsonl; `status` shows the run.",
    ],
    options: [
      { name: "attempts", type: "string", value: "N", text: "Resumes per task and problem before giving up (default 3)." },
      { name: "max-budget-usd", type: "string", value: "X", text: "Start no session or resume once the run's sessions have spent X dollars (from their result events)." },
      { name: "task-budget-usd", type: "string", value: "Y", text: "Passed to every session as Claude Code's --max-budget-usd." },
      { name: "model", type: "string", value: "M", text: "Passed to the sessions (claude --model)." },
      { name: "permission-mode", type: "string", value: "M", text: "Passed to the sessions (claude --permission-mode)." },
      { name: "max-parallel", type: "string", value: "N", text: "At most N sessions at once (default: the plan's maxParallel)." },
      { name: "stop-sessions", type: "boolean", text: "When interrupted, stop the running sessions too (by default they finish on their own)." },
      { name: "rolling", type: "boolean", text: "No barriers: start each task once what it waits for is merged, and merge each task alone as soon as it passes." },
      { name: "no-finish", type: "boolean", text: "Stop once the last phase is synced; do not merge into base." },
      { name: "pr", type: "boolean", text: "After the last phase, print the command that opens the pull request instead of merging." },
      { name: "json", type: "boolean", text: "Print one JSON event per line." },
      { name: "detach", type: "boolean", text: "Run in the background (output in <state>/run/output.log), print the first events and return." },
      { name: "dry-run", type: "boolean", text: "Print what the run would do next, from the feature's state, and change nothing." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
    async run(values, positionals, io) {
      if (values["no-finish"] === true && values.pr === true) throw usageError("--no-finish and --pr cannot go together", "pick one of them");
      const { runCommand } = await import("./commands/run.js");
      return runCommand(
        {
          target: positionals[0],
          attempts: values.attempts === undefined ? 3 : count("--attempts", str(values.attempts)!),
          maxBudgetUsd: dollars("--max-budget-usd", str(values["max-budget-usd"])),
          taskBudgetUsd: dollars("--task-budget-usd", str(values["task-budget-usd"])),
          model: str(values.model),
          permissionMode: str(values["permission-mode"]),
          maxParallel: values["max-parallel"] === undefined ? undefined : count("--max-parallel", str(values["max-parallel"])!),
          stopSessions: values["stop-sessions"] === true,
          finishMode: values["no-finish"] === true ? "none" : values.pr === true ? "pr" : "finish",
          json: values.json === true,
          detach: values.detach === true,
          dryRun: values["dry-run"] === true,
          rolling: values.rolling === true,
        },
        io,
      );
    },
  },
  {
    name: "skip",
    synopsis: ["<task> [slug] --reason TEXT | --undo"],
    summary: ["Leave a task of the phase in progress out of its sync (nothing to do, or work not", "wanted); its branch and worktree stay."],
    details: ["The sync of the task's phase then merges nothing of it and does not require a commit on its branch. Only a phase that is not synced yet can change."],
    options: [
      { name: "reason", type: "string", value: "TEXT", text: "Why the task is skipped (required unless --undo)." },
      { name: "undo", type: "boolean", text: "Take the task back into its phase's sync." },
    ],
    positionals: 2,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      if (!positionals[0]) throw usageError("`skip` needs the task's id", "run `claude-parallel skip <task> [slug] --reason TEXT`");
      const { skipCommand } = await import("./commands/skip.js");
      return skipCommand({ task: positionals[0], slug: positionals[1], reason: str(values.reason), undo: values.undo === true }, io);
    },
  },
  {
    name: "replan",
    synopsis: ["[plan-or-slug] [--dry-run]"],
    summary: ["Apply an edited plan file to a started feature (whose phases follow the plan frozen", "at the first start): phases not started change freely; what already ran cannot."],
    details: [
      "The edited plan is validated like `plan` does. Synced phases keep their tasks; the phase in progress keeps its task ids (their owns, produces, consumes, verify, prompt, title and estimate may change: widen a task's owns this way); later phases may change freely. Anything else is refused with the reason, and nothing is written.",
    ],
    options: [{ name: "dry-run", type: "boolean", text: "Print what would change and write nothing." }],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      const { replanCommand } = await import("./commands/replan.js");
      return replanCommand({ target: positionals[0], dryRun: values["dry-run"] === true }, io);
    },
  },
  {
    name: "finish",
    synopsis: ["[slug] [--pr]"],
    summary: ["After the last phase: merge the integration branch into base (or, with --pr, push it", "and open a pull request into base with gh)."],
    details: [
      "Refuses until every phase is synced. The merge is a real `git merge --no-ff` where base is checked out in a clean worktree (undone exactly if git fails), an in-memory merge published with a compare-and-swap where it is not checked out, never into a dirty checkout; conflicts are found before anything is touched.",
      "With --pr nothing is merged locally: the integration branch is pushed to base's upstream remote (or origin; exit 4 if there is neither), then, when gh is installed and logged in, `gh pr create` opens the pull request with a description of the phases, tasks and syncs, and its URL is printed; otherwise the push and gh commands are printed for you to run.",
    ],
    options: [{ name: "pr", type: "boolean", text: "Push the integration branch and open a pull request into base instead of merging." }],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      const { finishCommand } = await import("./commands/finish.js");
      return finishCommand({ slug: positionals[0], pr: values.pr === true }, io);
    },
  },
  {
    name: "clean",
    synopsis: ["[slug] [--force] [--dry-run]"],
    summary: [
      "Remove what the feature made and recorded (its task worktrees, the branches it",
      "created, its backup refs and its state), never anything else; refuses to drop",
      "uncommitted work or commits base does not hold, unless --force.",
    ],
    details: [
      "It never removes a worktree or branch the feature did not create, --force or not. What killed commands left of a worktree is brought to an end too. While anything of the feature remains (each named, with why), its state is kept and it exits 4: run it again once that is dealt with.",
    ],
    options: [
      { name: "force", type: "boolean", text: "Remove them even with uncommitted work or commits base does not hold (listing each, so it can be recovered)." },
      { name: "dry-run", type: "boolean", text: "Print what it would remove and change nothing." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      const { cleanCommand } = await import("./commands/clean.js");
      return cleanCommand({ slug: positionals[0], force: values.force === true, dryRun: values["dry-run"] === true }, io);
    },
  },
  {
    name: "push",
    synopsis: ["<slug> [--remote NAME] [--dry-run]"],
    summary: ["Share a feature: record its state in refs/parallel/<slug>/state and push it, the", "integration branch, the task branches and the backups, atomically, with leases."],
    details: [
      "Each ref is pushed only over exactly the commit seen on the remote (git push --atomic --force-with-lease=<ref>:<commit>), and only when this clone holds that commit: a ref that moved on the remote stops the whole push, and nothing there is overwritten. Then `pull <slug>` (or `start <slug>` / `sync <slug>` once the state ref is fetched) continues the feature in another clone or a CI job.",
    ],
    options: [
      { name: "remote", type: "string", value: "NAME", text: "The remote to push to (default: origin)." },
      { name: "dry-run", type: "boolean", text: "Say what would be pushed and push nothing." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      if (!positionals[0]) throw usageError("`push` needs the feature's slug", "run `claude-parallel push <slug>`");
      const { pushCommand } = await import("./commands/push.js");
      return pushCommand({ slug: positionals[0], remote: str(values.remote) ?? "origin", dryRun: values["dry-run"] === true }, io);
    },
  },
  {
    name: "pull",
    synopsis: ["<slug> [--remote NAME] [--dry-run]"],
    summary: ["Continue a feature started elsewhere: take its shared state from the remote's", "refs/parallel/<slug>/state and bring its branches and backups here (fast-forward only)."],
    details: [
      "The remote's state replaces this clone's only when this clone has none, or has not changed it since it last pushed or pulled; otherwise it refuses and says why. Branches are created when missing and fast-forwarded when behind; a branch that is ahead, differs, or is checked out is left alone and listed.",
    ],
    options: [
      { name: "remote", type: "string", value: "NAME", text: "The remote to pull from (default: origin)." },
      { name: "dry-run", type: "boolean", text: "Say what would change here and change nothing (the remote's objects are fetched, no ref moves)." },
    ],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      if (!positionals[0]) throw usageError("`pull` needs the feature's slug", "run `claude-parallel pull <slug>`");
      const { pullCommand } = await import("./commands/pull.js");
      return pullCommand({ slug: positionals[0], remote: str(values.remote) ?? "origin", dryRun: values["dry-run"] === true }, io);
    },
  },
  {
    name: "ci",
    synopsis: ["init [--engine github] [--runner LABELS] [--max-parallel N]", "[--on-last pr|none] [--force] [--dry-run]"],
    summary: ["Write .github/workflows/claude-parallel.yml: each run executes one phase of a feature", "on GitHub Actions (one job per task, with claude-code-action) and dispatches the next."],
    details: [
      "The workflow runs this helper from the repository (the committed plugin/scripts, or a copy ci init writes under .github/claude-parallel/), so CI installs nothing of ours. It refuses to replace a different workflow file without --force.",
      "The workflow's steps call these subcommands (not for interactive use): `ci matrix <slug> [--github-output]` prints the phase in progress as the task job's matrix; `ci brief <slug> <task> [--github-output] [--remote NAME]` prints a task leg's prompt and Claude Code arguments, and whether its session already succeeded; `ci result <slug> <task> --outcome O [--execution-file F] --out DIR` records a leg's outcome, cost, uncommitted files and verify run as DIR/result.json; `ci record <slug> <dir> [--phase N]` reads the legs' results, reports the phase's cost and records their verify runs for the sync's preflight.",
    ],
    options: [
      { name: "engine", type: "string", value: "github", text: "The CI engine (only github: GitHub Actions)." },
      { name: "runner", type: "string", value: "LABELS", text: "The jobs' runner labels, comma-separated (default: ubuntu-latest; self-hosted,linux for a fleet)." },
      { name: "max-parallel", type: "string", value: "N", text: "At most N task legs at once (default: 8)." },
      { name: "on-last", type: "string", value: "pr|none", text: "After the last phase: open the pull request into base (pr, default) or stop (none)." },
      { name: "force", type: "boolean", text: "Replace a workflow file (or helper copy) that differs." },
      { name: "dry-run", type: "boolean", text: "Say what it would write and write nothing." },
      { name: "github-output", type: "boolean", text: "(matrix, brief) Also write the values to $GITHUB_OUTPUT." },
      { name: "outcome", type: "string", value: "O", text: "(result) The session step's outcome." },
      { name: "execution-file", type: "string", value: "F", text: "(result) claude-code-action's execution file, for the cost." },
      { name: "out", type: "string", value: "DIR", text: "(result) Where to write result.json." },
      { name: "phase", type: "string", value: "N", text: "(record) The phase the results belong to." },
      { name: "remote", type: "string", value: "NAME", text: "(brief) The remote holding the sessions' done marks (default: origin)." },
    ],
    positionals: 3,
    exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
    async run(values, positionals, io) {
      const [sub, slug, arg] = positionals;
      const ci = await import("./commands/ci.js");
      const need = (what: string | undefined, usage: string) => {
        if (!what) throw usageError(`\`ci ${sub}\` needs more arguments`, `run \`claude-parallel ci ${usage}\``);
        return what;
      };
      switch (sub) {
        case "init": {
          oneOf("--engine", str(values.engine) ?? "github", ["github"] as const);
          const max = str(values["max-parallel"]) ?? "8";
          if (!/^[0-9]{1,4}$/.test(max)) throw usageError(`--max-parallel takes a number, not \`${max}\``);
          const onLast = oneOf("--on-last", str(values["on-last"]) ?? "pr", ["pr", "none"] as const);
          if (slug !== undefined) throw usageError(`unexpected argument \`${slug}\``);
          return ci.ciInitCommand({ engine: "github", runner: str(values.runner) ?? "ubuntu-latest", maxParallel: Number(max), onLast, force: values.force === true, dryRun: values["dry-run"] === true, version: VERSION }, io);
        }
        case "matrix":
          return ci.ciMatrixCommand({ slug: need(slug, "matrix <slug>"), githubOutput: values["github-output"] === true }, io);
        case "brief":
          return ci.ciBriefCommand({ slug: need(slug, "brief <slug> <task>"), task: need(arg, "brief <slug> <task>"), remote: str(values.remote) ?? "origin", githubOutput: values["github-output"] === true }, io);
        case "result":
          return ci.ciResultCommand(
            { slug: need(slug, "result <slug> <task> --outcome O --out DIR"), task: need(arg, "result <slug> <task> --outcome O --out DIR"), outcome: str(values.outcome) ?? "", executionFile: str(values["execution-file"]) || undefined, out: need(str(values.out), "result <slug> <task> --outcome O --out DIR") },
            io,
          );
        case "record":
          return ci.ciRecordCommand({ slug: need(slug, "record <slug> <dir>"), dir: need(arg, "record <slug> <dir>"), phase: values.phase === undefined ? undefined : phaseNumber(str(values.phase)!) }, io);
        default:
          throw usageError(sub === undefined ? "`ci` needs a subcommand" : `unknown ci subcommand \`${sub}\`${didYouMean(sub, ["init", "matrix", "brief", "result", "record"])}`, "run `claude-parallel ci init` (the others are the workflow's steps: claude-parallel ci --help)");
      }
    },
  },
  {
    name: "schema",
    synopsis: [],
    summary: ["Print the JSON Schema of plan files."],
    inline: true,
    details: ["For editors (`# yaml-language-server: $schema=...`) and for checking plans with other tools."],
    options: [],
    positionals: 0,
    exits: [ExitCode.ok, ExitCode.invalidInput],
    async run(_values, _positionals, io) {
      const { planJsonSchema } = await import("./plan/schema.js");
      io.stdout(JSON.stringify(planJsonSchema(), null, 2) + "\n");
      return ExitCode.ok;
    },
  },
  {
    name: "context",
    synopsis: [],
    summary: ["Print what /parallel needs to know about this repository."],
    inline: true,
    details: ["The repository, its branch and worktrees, existing plans, the roles it defines, the plan format and this helper's path. It never fails: a problem is reported in its output."],
    options: [],
    positionals: 0,
    ignoresArguments: true,
    exits: [ExitCode.ok],
    async run(_values, _positionals, io) {
      // Never fails: its output is spliced into /parallel by a `!` line.
      const { renderContext } = await import("./context.js");
      io.stdout(await renderContext({ cwd: io.cwd, helperPath: helperPath(), nodeVersion: process.version }));
      return ExitCode.ok;
    },
  },
  {
    name: "--version",
    aliases: ["-v"],
    synopsis: [],
    summary: ["Print the version."],
    inline: true,
    details: [],
    options: [],
    positionals: 0,
    ignoresArguments: true,
    exits: [ExitCode.ok],
    async run(_values, _positionals, io) {
      io.stdout(`${VERSION}\n`);
      return ExitCode.ok;
    },
  },
  {
    name: "help",
    aliases: ["--help", "-h"],
    synopsis: ["[command]"],
    summary: ["Print the usage, or a command's help (the same as `claude-parallel <command> --help`)."],
    unlisted: true,
    details: [],
    options: [],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput],
    async run(_values, positionals, io) {
      if (positionals[0] === undefined) {
        io.stdout(USAGE + "\n");
        return ExitCode.ok;
      }
      const spec = lookup(positionals[0]);
      if (!spec) throw unknownCommand(positionals[0], "help");
      io.stdout(commandHelp(spec));
      return ExitCode.ok;
    },
  },
];

const EXIT_MEANINGS: Record<ExitCode, string> = {
  0: "done",
  1: "internal error",
  2: "invalid plan or usage",
  3: "unfit environment",
  4: "refused because of the repository's state (nothing was changed)",
  5: "the merged result fails verification (nothing was published)",
};

const PREFIX = "claude-parallel ";

function usage(): string {
  const lines = ["claude-parallel: plan parallel Claude Code sessions in git worktrees", "", "Usage:"];
  for (const spec of TABLE) {
    if (spec.unlisted) continue;
    if (spec.inline) {
      lines.push(`  ${PREFIX}${spec.name.padEnd(13)}${spec.summary.join(" ")}`);
      continue;
    }
    lines.push(...synopsisLines(spec, "  "));
    lines.push(...spec.summary.map((l) => `      ${l}`));
  }
  lines.push(
    "",
    "Exit codes: 0 done, 1 internal error, 2 invalid plan or usage, 3 unfit environment,",
    "4 refused because of the repository's state (nothing was changed), 5 the merged result",
    "fails verification (nothing was published).",
  );
  return lines.join("\n");
}

const USAGE = usage();

function synopsisLines(spec: CommandSpec, indent: string): string[] {
  const head = `${indent}${PREFIX}${spec.name}`;
  if (spec.synopsis.length === 0) return [head];
  const pad = " ".repeat(head.length + 1);
  return [`${head} ${spec.synopsis[0]}`, ...spec.synopsis.slice(1).map((l) => pad + l)];
}

/** `claude-parallel <command> --help`: its synopsis, what it does, its options and its exit codes. */
function commandHelp(spec: CommandSpec): string {
  const out = [...wrap(`${PREFIX}${spec.name}: ${spec.summary.join(" ")}`, 92), "", ...synopsisLines(spec, "Usage: ")];
  if (spec.aliases?.length) out.push(`Also spelled: ${spec.aliases.map((a) => `${PREFIX}${a}`).join(", ")}`);
  for (const paragraph of spec.details) out.push("", ...wrap(paragraph, 92));
  const options = [...spec.options.map((o) => ({ flag: `--${o.name}${o.value ? ` ${o.value}` : ""}`, text: o.text })), { flag: "--help, -h", text: "Print this help." }];
  const width = Math.max(...options.map((o) => o.flag.length)) + 2;
  out.push("", "Options:");
  for (const o of options) {
    const [first, ...rest] = wrap(o.text, 92 - 2 - width);
    out.push(`  ${o.flag.padEnd(width)}${first}`, ...rest.map((l) => `  ${" ".repeat(width)}${l}`));
  }
  const exits = [...spec.exits.filter((c) => c !== ExitCode.internal)].map((c) => `${c} ${EXIT_MEANINGS[c]}`);
  out.push("", ...wrap(`Exit codes: ${exits.join(", ")}; 1 is an internal error (a bug in claude-parallel).`, 92));
  return out.join("\n") + "\n";
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function lookup(name: string): CommandSpec | undefined {
  return TABLE.find((c) => c.name === name || c.aliases?.includes(name));
}

/** The names a mistyped command is compared with. */
const COMMANDS = TABLE.filter((c) => !c.name.startsWith("-")).map((c) => c.name);

function unknownCommand(name: string, context?: "help"): InputError {
  return usageError(`${context === "help" ? "no help for unknown command" : "unknown command"} \`${name}\`${didYouMean(name, COMMANDS)}`, `use one of: ${COMMANDS.join(", ")}`);
}

export async function run(argv: string[], io: Io): Promise<ExitCode> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const known = error instanceof CliError ? error : systemError(error);
    if (known) {
      io.stderr(`claude-parallel: ${known.report()}\n`);
      return known.exitCode;
    }
    const e = error as Error;
    io.stderr(`claude-parallel: internal error: ${e?.stack ?? String(error)}\nThis is a bug in claude-parallel; please report it with the command you ran.\n`);
    return ExitCode.internal;
  }
}

function usageError(message: string, fix = "run `claude-parallel --help` for usage"): InputError {
  return new InputError({ where: "", message, fix });
}

/** `--help` or `-h` among a command's arguments (before a `--` that ends the options). */
function asksForHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

async function dispatch(argv: string[], io: Io): Promise<ExitCode> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stdout(USAGE + "\n");
    return ExitCode.ok;
  }
  // `_hook <event>` (what the plugin's hooks run) never reaches here: src/main.ts sends it to src/hooks/run.ts.
  if (command === "_supervise") {
    // Internal: the detached process behind `start --launch headless`.
    const { supervise } = await import("./start/headless.js");
    await supervise(rest[0]!);
    return ExitCode.ok;
  }
  const spec = lookup(command);
  if (!spec) throw unknownCommand(command);
  if (spec.ignoresArguments) return spec.run({}, [], io);
  if (asksForHelp(rest)) {
    io.stdout(commandHelp(spec));
    return ExitCode.ok;
  }
  const options = Object.fromEntries(spec.options.map((o) => [o.name, { type: o.type }])) as OptionSpec;
  const { values, positionals } = parse(rest, options, spec.positionals, spec.name);
  return spec.run(values as Values, positionals, io);
}

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`${option} must be one of ${allowed.join(", ")}, not \`${value}\`${didYouMean(value, allowed)}`);
}

function count(option: string, value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw usageError(`${option} takes a whole number (1, 2, ...), not \`${value}\``);
  return Number(value);
}

function dollars(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || Number(value) <= 0) throw usageError(`${option} takes an amount in dollars (0.5, 10), not \`${value}\``);
  return Number(value);
}

function phaseNumber(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw usageError(`--phase takes a phase number (1, 2, ...), not \`${value}\``);
  return Number(value);
}

type OptionSpec = Record<string, { type: "boolean" | "string" }>;

function parse<T extends OptionSpec>(args: string[], options: T, positionals: number, command: string) {
  const fix = `run \`claude-parallel ${command} --help\` for its usage`;
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    if (unknown) {
      throw usageError(`unknown option \`${unknown}\`${didYouMean(unknown.replace(/^-+/, ""), Object.keys(options).map((o) => o))}`, fix);
    }
    // Node's "argument is ambiguous": the option's value starts with a dash (`--attempts -1`), or
    // the value is missing and the next option was taken for it (`--model --dry-run`).
    const ambiguous = /Option '(--[^' ]+)[^']*' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous) throw usageError(`${ambiguous} needs a value, and the word after it starts with a dash`, `give the value right after it (a value that starts with a dash is written ${ambiguous}=-VALUE)`);
    throw usageError(message.split(".")[0]!, fix);
  }
  if (parsed.positionals.length > positionals) {
    throw usageError(`unexpected argument \`${parsed.positionals[positionals]}\``, fix);
  }
  return parsed;
}

export async function main(): Promise<void> {
  // A reader that stops early (`| head`) closes the pipe: stop quietly, like other CLI tools.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  // The one way out for everything the helper prints: control and bidi characters from plans,
  // commits and file names are shown as escapes, never acted on by the terminal (src/text/terminal.ts).
  const code = await run(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(terminalSafe(t)),
    stderr: (t) => process.stderr.write(terminalSafe(t)),
    // Cursor home and clear screen are ours; the text itself goes through the same escaping.
    ...(process.stdout.isTTY && { redraw: (t: string) => process.stdout.write(`\x1b[H\x1b[2J${terminalSafe(t)}`) }),
  });
  process.exitCode = code;
}
