import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { terminalSafe } from "../../src/core/text/terminal.js";
import { gitEnv } from "./git.js";
import { HELPER } from "./paths.js";

export { HELPER, REPO_ROOT } from "./paths.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the freshly built bundle the way users run it: `node scripts/parallel.mjs ...` (paths.ts). */
export function runHelper(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; helper?: string }): CliResult {
  const r = spawnSync(process.execPath, [options.helper ?? HELPER, ...args], {
    cwd: options.cwd,
    env: { ...gitEnv, ...options.env },
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the bundle without blocking this process (a scripted model server in the test must keep
 * answering): in its own process group, so a test can kill it and everything it started in it.
 */
export function startHelper(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): { pid: number; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [HELPER, ...args], { cwd: options.cwd, env: { ...gitEnv, ...options.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
  return { pid: child.pid!, done };
}

type BundleRun = (argv: string[], io: { cwd: string; stdout: (t: string) => void; stderr: (t: string) => void }) => Promise<number>;
let bundleRun: Promise<BundleRun> | undefined;
const GIT_TEST_VARS = Object.keys(gitEnv).filter((k) => k.startsWith("GIT_"));

/**
 * The same bundle's command runner, called inside the test process: what `main()` of
 * scripts/parallel.mjs runs after its Node guard, with the same terminal-safe writers, minus
 * the process start. For the many cases of one command that only read a file and refuse
 * (a corpus of bad plans); it only fits commands that do not read process.cwd() or
 * process.env for anything the test varies. The git it runs sees the tests' git identity and
 * isolation (gitEnv), set in this process for the call. Keep at least one real-process run of
 * the same cases beside it (see test/integration/malformed.test.ts).
 */
export async function runHelperInProcess(args: string[], options: { cwd: string }): Promise<CliResult> {
  bundleRun ??= (async () => {
    // The entry imports its command runner lazily, by a hashed chunk name: read it from the entry.
    const chunk = /import\("\.\/(chunks\/cli-[A-Z0-9]+\.mjs)"\)/.exec(readFileSync(HELPER, "utf8"))?.[1];
    if (!chunk) throw new Error(`no cli chunk named in ${HELPER}: rebuild with npm run build`);
    const cli = (await import(pathToFileURL(join(dirname(HELPER), chunk)).href)) as { run: BundleRun };
    return cli.run;
  })();
  const run = await bundleRun;
  let stdout = "";
  let stderr = "";
  const saved = Object.fromEntries(GIT_TEST_VARS.map((k) => [k, process.env[k]]));
  Object.assign(process.env, Object.fromEntries(GIT_TEST_VARS.map((k) => [k, (gitEnv as NodeJS.ProcessEnv)[k]])));
  try {
    const code = await run(args, { cwd: options.cwd, stdout: (t) => void (stdout += terminalSafe(t)), stderr: (t) => void (stderr += terminalSafe(t)) });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
