import { spawnSync } from "node:child_process";

/** Commits made by the benchmarks need an identity; quiet npm. */
export const benchEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@example.invalid",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@example.invalid",
  npm_config_loglevel: "error",
  npm_config_audit: "false",
  npm_config_fund: "false",
};

export function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, env: benchEnv, stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}`);
}

/** Milliseconds `fn` takes, after flushing what earlier steps wrote, so every run starts from the same disk state. */
export function time(fn: () => void): number {
  spawnSync("sync");
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
