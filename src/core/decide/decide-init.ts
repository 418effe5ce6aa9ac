import type { Refusal } from "../errors.js";

/** A file `ci init` wants in the repository, and what is there now. */
export interface InitFile {
  /** Repository-relative path. */
  path: string;
  content: string;
  /** What the repository holds at that path now (undefined: nothing). */
  existing?: string;
}

type InitAction = { kind: "write" | "replace" | "unchanged"; path: string; content: string };

/** Writes what is missing, leaves what is the same, and replaces a different file only with --force. */
export function decideInit(files: readonly InitFile[], force: boolean): { actions: InitAction[] } | { refusals: Refusal[] } {
  const refusals: Refusal[] = [];
  const actions: InitAction[] = [];
  for (const f of files) {
    if (f.existing === undefined) actions.push({ kind: "write", path: f.path, content: f.content });
    else if (f.existing === f.content) actions.push({ kind: "unchanged", path: f.path, content: f.content });
    else if (force) actions.push({ kind: "replace", path: f.path, content: f.content });
    else
      refusals.push({
        code: "file-differs",
        message: `${f.path} exists and differs from what ci init writes`,
        fix: "run ci init --force to replace it (your changes to it are lost; commit them first to keep a copy)",
      });
  }
  return refusals.length ? { refusals } : { actions };
}
