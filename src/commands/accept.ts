import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { EnvironmentError, ExitCode, RefusedError } from "../core/errors.js";
import { withLockedFeature } from "../state-ref/open-feature.js";
import { writeState } from "../feature/store.js";
import { commitOf } from "../git/repo.js";
import { quote, sh } from "../core/text/shell.js";
import { loadExpectedRefs } from "../feature/backstop.js";
import { integrationFinding } from "../core/decide/decide-refs.js";
import { pendingJournals } from "../feature/journal.js";
import { reportRefs } from "../feature/ref-report.js";
import { pendingTaskMerges } from "../feature/task-merge-journal.js";
import { terminalSafe } from "../core/text/terminal.js";
import type { Io } from "../core/io.js";
import { usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "accept",
  synopsis: ["<commit> [slug]"],
  summary: ["Accept a move of the integration branch made outside claude-parallel's merges (your", "own merge or fix there), confirmed by typing at the terminal."],
  details: [
    "sync, run, start and finish refuse while the integration branch is not where claude-parallel's last merge left it (a session could have moved it). When you moved it yourself and want that in the feature, name its new tip: its commits and the files they change are shown, and you type `accept` at the terminal. From then on that commit is where the branch must be; the move is recorded in the feature's state and listed by status. A process without a terminal (a headless session, a script, CI) cannot accept.",
  ],
  options: [],
  positionals: 2,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(_values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`accept` needs the integration branch's new tip", "run `claude-parallel accept <commit> [slug]` with the commit the refusal names");
  return acceptCommand({ commit: positionals[0], slug: positionals[1] }, io);
}

/**
 * `claude-parallel accept <commit> [slug]`: the integration branch moved outside our merges (a
 * merge of base you resolved there, a fix you committed on it) and you want that in the feature:
 * its commits and files are shown, and you confirm by typing at the terminal. From then on that
 * commit is where the integration branch must be; the move is recorded in the state, and `status`
 * lists it. A process without a terminal (a headless session, a script, CI) cannot accept.
 */
async function acceptCommand(options: { commit: string; slug?: string }, io: Io): Promise<ExitCode> {
  const terminal = openTerminal();
  if (terminal === undefined) {
    throw new EnvironmentError(
      "accept asks you at a terminal, and this process has none (a task session, a script or CI cannot accept a move of the integration branch)",
      `run ${options.slug === undefined ? sh`claude-parallel accept ${options.commit}` : sh`claude-parallel accept ${options.commit} ${options.slug}`} yourself, in a terminal`,
    );
  }
  try {
    return await accept(options, terminal, io);
  } finally {
    closeSync(terminal);
  }
}

async function accept(options: { commit: string; slug?: string }, terminal: number, io: Io): Promise<ExitCode> {
  return withLockedFeature(options.slug, io.cwd, "accept", async ({ repo, mainRoot, feature }) => {
    const { state, slug, plan } = feature;
    if (!state) throw new RefusedError([{ code: "feature-not-started", message: `feature ${slug} has not started`, fix: `run claude-parallel start ${quote(slug)}` }]);
    const expected = await loadExpectedRefs(repo.commonDir, state);
    if (!expected) throw new RefusedError([{ code: "feature-finished", message: `${slug} is finished (or has no start recorded): there is nothing to accept`, fix: "nothing to do" }]);
    // A publish under way ends by running its command again, which knows where it left the branch.
    if ((await pendingJournals(repo.commonDir, slug)).length || (await pendingTaskMerges(repo.commonDir, slug)).journals.length) {
      throw new RefusedError([
        {
          code: "publish-interrupted",
          message: `a sync or merge of ${slug} was interrupted and is not finished`,
          fix: `finish it first (${sh`claude-parallel sync ${slug}`}, or run again), then accept`,
        },
      ]);
    }
    const actual = await commitOf(expected.integration.ref, mainRoot);
    const named = await commitOf(options.commit, mainRoot);
    if (actual === undefined)
      throw new RefusedError([
        {
          code: "branch-missing",
          message: `the integration branch ${plan.integrationBranch} is missing`,
          fix: `restore it where our last merge left it: ${sh`git update-ref ${expected.integration.ref} ${expected.integration.tip} ''`}`,
        },
      ]);
    if (named !== actual) {
      throw new RefusedError([
        {
          code: "not-the-tip",
          message: `the integration branch ${plan.integrationBranch} is at ${actual.slice(0, 12)}, not at ${options.commit}`,
          fix: `look at what it holds now (${sh`claude-parallel status ${slug}`}), then accept that commit`,
        },
      ]);
    }
    const finding = integrationFinding(expected, actual);
    if (!finding) {
      io.stdout(`${plan.integrationBranch} is at ${actual.slice(0, 12)}, where claude-parallel left it: nothing to accept.\n`);
      return ExitCode.ok;
    }
    const [report] = await reportRefs(mainRoot, [finding], { slug });
    const question = [
      `${report!.message}.`,
      "",
      `Accept ${actual.slice(0, 12)} as the tip of ${plan.integrationBranch}? Everything it holds then goes into ${plan.base} with the feature, unchecked by claude-parallel.`,
      'Type "accept" to accept it (anything else changes nothing): ',
    ].join("\n");
    if (ask(terminal, terminalSafe(question)) !== "accept") {
      io.stdout(`Not accepted: nothing was changed; ${plan.integrationBranch} stays refused until it is back at ${expected.integration.tip.slice(0, 12)} or accepted.\n`);
      return ExitCode.refused;
    }
    state.integrationTip = actual;
    state.acceptedMoves = [...(state.acceptedMoves ?? []), { from: expected.integration.tip, to: actual, at: new Date().toISOString() }];
    await writeState(repo.commonDir, state);
    io.stdout(`Accepted: ${plan.integrationBranch} at ${actual.slice(0, 12)} is the feature's from now on (recorded in its state; status lists it).\n`);
    return ExitCode.ok;
  });
}

/** The controlling terminal, read and written (not standard input: a pipe can feed that), or undefined without one. */
function openTerminal(): number | undefined {
  try {
    return openSync("/dev/tty", "r+");
  } catch {
    return undefined;
  }
}

/** The line typed at the terminal after `question`. */
function ask(terminal: number, question: string): string {
  writeSync(terminal, question);
  const buffer = Buffer.alloc(256);
  let line = "";
  while (!line.includes("\n")) {
    const n = readSync(terminal, buffer, 0, buffer.length, null);
    if (n <= 0) break;
    line += buffer.toString("utf8", 0, n);
  }
  return line.split("\n")[0]!.trim();
}
