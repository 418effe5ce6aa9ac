import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { RefusedError } from "../errors.js";
import { processAlive } from "../start/headless.js";

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

/**
 * One sync per feature at a time: a lock file created exclusively in the state folder. A lock
 * left by a process that is gone (same host, dead PID) is taken over.
 */
export async function acquireSyncLock(stateDir: string): Promise<() => Promise<void>> {
  const path = join(stateDir, "sync.lock");
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(JSON.stringify(mine) + "\n");
      await handle.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(await readFile(path, "utf8")) as LockInfo;
      } catch {
        holder = undefined; // half-written by a process that died at once
      }
      const alive = holder !== undefined && (holder.host !== mine.host || processAlive(holder.pid));
      if (alive) {
        throw new RefusedError([
          {
            message: `another sync of this feature is running (pid ${holder!.pid} on ${holder!.host}, since ${holder!.since})`,
            fix: "wait for it to finish, then run sync again if needed",
          },
        ]);
      }
      await rm(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not take the sync lock ${path}`);
}
