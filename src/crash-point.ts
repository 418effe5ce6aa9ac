/** Tests kill a command at a named step (CLAUDE_PARALLEL_CRASH_AT=<step>) to prove a re-run finishes the job. */
export function crashPoint(step: string): void {
  if (process.env.CLAUDE_PARALLEL_CRASH_AT === step) process.kill(process.pid, "SIGKILL");
}
