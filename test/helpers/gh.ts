import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.js";
import { tempDir } from "./tmp.js";

export interface GhFixture {
  /** The bare repository the pull request's branch is pushed to. */
  remote: string;
  branch: string;
  number: number;
  url: string;
  /** The head at which the check `test` fails and the review is not yet approved. */
  failingHead?: string;
  job: number;
  /** The failing job's log (`gh run view --job <job> --log-failed`). */
  log: string;
  /** What `gh api repos/{owner}/{repo}/pulls/<n>/comments` answers. */
  comments: unknown[];
  /** The pull request's state (default OPEN). */
  state?: "OPEN" | "MERGED" | "CLOSED";
  /** `gh pr list` lists it (by default it lists none: the pull request is yet to open). */
  listed?: boolean;
}

/**
 * The stand-in gh (test/helpers/gh-standin.mjs) as `gh` in a folder of its own, to put first on
 * PATH; `write` changes the fixture it answers from, `calls` lists every call's arguments.
 */
export function standInGh(fixture: Omit<GhFixture, "calls">): { bin: string; env: Record<string, string>; write(next: Partial<GhFixture>): void; calls(): string[][] } {
  const bin = tempDir("gh-standin-");
  const path = join(bin, "fixture.json");
  const calls = join(bin, "calls.jsonl");
  let current = { ...fixture, calls };
  const write = (next: Partial<GhFixture>) => writeFileSync(path, JSON.stringify((current = { ...current, ...next })));
  write({});
  writeFileSync(join(bin, "gh"), `#!/bin/sh\nexec '${process.execPath}' '${join(REPO_ROOT, "test/helpers/gh-standin.mjs")}' "$@"\n`);
  chmodSync(join(bin, "gh"), 0o755);
  return {
    bin,
    env: { GH_STANDIN: path },
    write,
    calls: () => recordedCalls(calls),
  };
}

/** The argument lists a stand-in gh appended to `file`, one JSON line per call. */
export const recordedCalls = (file: string): string[][] =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[])
    : [];
