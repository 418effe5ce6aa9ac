import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, InputError } from "../core/errors.js";
import { statePath } from "../core/state/paths.js";
import { openRepo } from "../git/repo.js";
import { SLUG_PATTERN } from "../core/plan/names.js";
import { spawnDetached, spawnDetachedToFiles } from "../proc.js";
import { helperPath } from "../self.js";
import type { Io } from "../core/io.js";
import { LiveSnapshot } from "../dashboard/live.js";
import { dashboardPage } from "../dashboard/page.js";
import { forgetDashboard, recordDashboard, runningDashboard, type DashboardRecord } from "../dashboard/record.js";
import { dashboardUrl, newToken, startDashboardServer } from "../dashboard/server.js";
import { str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "dashboard",
  synopsis: ["[slug] [--port N] [--no-open] [--detach]"],
  summary: [
    "A live web page of every started feature on 127.0.0.1: the plan as a graph by phase, each",
    "session's state and cost, who needs you (with the command to run), conflicts, syncs, the run.",
  ],
  details: [
    "Only reads: it shows what `status` reads (the feature's state, the sessions' ledger, the run's events, the branches) and updates the page as those files change. It listens on 127.0.0.1 only; the address it prints holds a random token that every request needs. Ctrl-C stops it.",
  ],
  options: [
    { name: "port", type: "string", value: "N", text: "Listen on port N (default: a free port)." },
    { name: "no-open", type: "boolean", text: "Do not open the page in a browser." },
    {
      name: "detach",
      type: "boolean",
      text: "Run in the background: print the address and the pid to stop it, and return. While a dashboard of the repository serves, print its address instead of starting another.",
    },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const port = str(values.port) ?? "0";
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) throw usageError(`--port takes a port number (1 to 65535), not \`${port}\``, "for example --port 8765, or leave it out for a free port");
  return dashboardCommand({ slug: positionals[0], port: Number(port), open: values["no-open"] !== true, detach: values.detach === true }, io);
}

interface DashboardOptions {
  slug?: string;
  /** 0: a free port. */
  port: number;
  open: boolean;
  detach: boolean;
}

/** How soon a change in a watched file reaches the pages; and how often, while a page is open, the worktrees are looked at again for what no file event tells (files edited but not committed). */
const DEBOUNCE_MS = 150;
const RESCAN_MS = 30_000;

/**
 * `claude-parallel dashboard`: serves the live dashboard on 127.0.0.1 until interrupted. Only
 * reads. The address it prints holds the token every request needs.
 */
async function dashboardCommand(options: DashboardOptions, io: Io): Promise<ExitCode> {
  if (options.slug !== undefined && !SLUG_PATTERN.test(options.slug)) {
    throw new InputError({ where: options.slug, message: "is not a feature's slug", fix: "give the slug of a feature (its folder under .parallel/), or none for every started feature" });
  }
  const repo = await openRepo(io.cwd);
  const started = options.slug === undefined || existsSync(statePath(repo.commonDir, options.slug));
  if (!started) {
    // Not started: a slug that names no plan either is refused now, with status's own message.
    const { openFeature } = await import("../state-ref/open-feature.js");
    await openFeature(options.slug, io.cwd, { adopt: false, repo });
  }
  if (options.detach) {
    const running = await runningDashboard(repo.commonDir);
    // It lists every started feature; a feature not started yet is shown only by a dashboard started for it.
    if (running && (options.port === 0 || options.port === running.port) && (started || running.chosen === options.slug)) return reuse(running, options, io);
    return detach(options, io, repo.root);
  }
  // The gatherers (git, plans, zod) load with the first look, after the address is out.
  const look = async () => (await import("../dashboard/gather.js")).gatherSnapshot(repo, io.cwd, options.slug);
  const live = new LiveSnapshot(look, repo.commonDir, { debounceMs: DEBOUNCE_MS, rescanMs: RESCAN_MS });
  const token = newToken();
  const server = await startDashboardServer({ port: options.port, token, source: live, page: dashboardPage() });
  await recordDashboard(repo.commonDir, { pid: process.pid, port: server.port, token, ...(options.slug !== undefined && { chosen: options.slug }) });
  io.stdout(`Dashboard of ${options.slug ?? "every started feature"} (read-only), for this machine only:\n${server.url}\nCtrl-C stops it.\n`);
  const opened = options.open ? openInBrowser(server.url) : undefined;
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    process.once("SIGHUP", resolve);
  });
  live.close();
  await server.close();
  await forgetDashboard(repo.commonDir, token);
  if (opened) rmSync(opened, { recursive: true, force: true });
  return ExitCode.ok;
}

/**
 * Opens the address in the user's browser without putting the token on any command line (which
 * every user of the machine can read in the process list): the browser is given a private file
 * (mode 0600, in a folder of mode 0700) that redirects to the address. Returns that folder, to
 * remove at the end; nothing when there is no opener. The printed address works either way.
 */
function openInBrowser(url: string): string | undefined {
  const opener = process.platform === "darwin" ? "open" : process.platform === "linux" ? "xdg-open" : undefined;
  if (!opener) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "claude-parallel-dashboard-"));
  const file = join(dir, "open.html");
  // The address is ours: digits, letters, `-_` and `:/?=.`; nothing in it needs escaping in an attribute.
  writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${url}"><a href="${url}">Open the dashboard</a>\n`, {
    mode: 0o600,
  });
  spawnDetached(opener, [file], dir);
  return dir;
}

/** `dashboard --detach` while a dashboard of the repository serves: its address (the feature asked for after `#`), no second server. */
function reuse(running: DashboardRecord, options: DashboardOptions, io: Io): ExitCode {
  const url = dashboardUrl(running.port, running.token) + (options.slug !== undefined ? `#${options.slug}` : "");
  io.stdout(`The dashboard of this repository already runs in the background (pid ${running.pid}), read-only, for this machine only:\n${url}\nStop it: kill ${running.pid}\n`);
  return ExitCode.ok;
}

/**
 * `dashboard --detach` (what /parallel-dashboard runs): the same dashboard in a process of its own,
 * which outlives the caller; prints its address and how to stop it. The address is read from its
 * output, written to a private file that is removed once read.
 */
async function detach(options: DashboardOptions, io: Io, cwd: string): Promise<ExitCode> {
  const dir = mkdtempSync(join(tmpdir(), "claude-parallel-dashboard-"));
  const log = join(dir, "output.log");
  const fd = openSync(log, "a", 0o600);
  const args = [helperPath(), "dashboard", ...(options.slug !== undefined ? [options.slug] : []), "--port", String(options.port), ...(options.open ? [] : ["--no-open"])];
  let child;
  try {
    child = spawnDetachedToFiles(process.execPath, args, cwd, fd, fd);
  } finally {
    closeSync(fd);
  }
  let ended: number | null | undefined;
  void child.exited.then((code) => (ended = code));
  const address = () => /^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/m.exec(readFileSync(log, "utf8"))?.[0];
  // Bounded: a dashboard prints its address before it looks at anything.
  for (let waited = 0; waited < 30_000 && ended === undefined && address() === undefined; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const url = address();
  const output = readFileSync(log, "utf8");
  // The file holds the token: it goes now (the dashboard prints nothing more unless it fails).
  rmSync(dir, { recursive: true, force: true });
  if (url === undefined) {
    io.stderr(`claude-parallel: the dashboard did not start${ended !== undefined ? ` (exit ${ended})` : ""}:\n${output}`);
    return ExitCode.environment;
  }
  io.stdout(`The dashboard of ${options.slug ?? "every started feature"} runs in the background (pid ${child.pid}), read-only, for this machine only:\n${url}\nStop it: kill ${child.pid}\n`);
  return ExitCode.ok;
}
