import { stat } from "node:fs/promises";

/** Whether anything (file, folder, ...) is at `path`. */
export const pathExists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Whether a regular file is at `path`. */
export const isFile = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
