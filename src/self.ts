import { realpathSync } from "node:fs";
import { resolve } from "node:path";

/** The absolute path of the running helper script, as Claude and child processes should call it. */
export function helperPath(): string {
  const self = resolve(process.argv[1] ?? "");
  try {
    return realpathSync(self);
  } catch {
    return self;
  }
}
