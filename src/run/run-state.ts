import { runStatePath } from "../core/state/paths.js";
import { RunStateSchema, type RunState } from "../core/state/state-schema.js";
import { readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { quote } from "../core/text/shell.js";

/** `run`'s state: what it must remember across an interruption (none yet: a fresh one). `approve` records a resume there too. */
export async function readRunState(commonDir: string, slug: string): Promise<RunState> {
  const path = runStatePath(commonDir, slug);
  const fix = `remove ${quote(path)} to start the run's bookkeeping afresh (the feature's state is kept)`;
  return (await readJsonFile(path, RunStateSchema, fix, MAX_BYTES.runState)) ?? { version: 1, tasks: {} };
}

/** Written whole, atomically; only under the feature's lock. */
export async function writeRunState(commonDir: string, slug: string, state: RunState): Promise<void> {
  await writeFileAtomic(runStatePath(commonDir, slug), JSON.stringify(state, null, 2) + "\n");
}
