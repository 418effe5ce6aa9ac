import { unquoteCPath } from "../git/c-quoted-path.js";
import { git } from "../git/run.js";
import { sh } from "../core/text/shell.js";
import { singleLine } from "../core/text/single-line.js";
import type { RefFinding } from "../core/decide/decide-refs.js";

/** What a finding's ref holds that it should not, read from git (only when there is a finding). */
export interface RefDetails {
  /** The commits it holds that the commit it should be at does not, newest first: the first few. */
  commits: Array<{ short: string; subject: string }>;
  /** How many such commits in all; `atLeast` when the count stopped at its limit. */
  count: number;
  atLeast: boolean;
  /** The files those commits change (a merge: what it brings to its first parent), the first few. */
  files: string[];
  fileCount: number;
  /** Commits of the commit it should be at that it no longer holds (dropped by a reset or rebase). */
  dropped: number;
}

export interface RefReport {
  finding: RefFinding;
  details?: RefDetails;
  /** One line each: what is wrong, and a fix that loses nothing. */
  message: string;
  fix: string;
}

const SHOWN_COMMITS = 5;
const SHOWN_FILES = 10;
const READ_COMMITS = 200;
const HEADER = "\x01";

/** The commits `head` holds and `base` does not, and the files they change: one `git log` (and a count of what it dropped). */
async function refDetails(cwd: string, base: string, head: string, withDropped: boolean): Promise<RefDetails> {
  const [log, dropped] = await Promise.all([
    git(["log", "--no-show-signature", `--format=${HEADER}%h%x00%s`, "--name-only", "--no-renames", "--diff-merges=first-parent", `--max-count=${READ_COMMITS + 1}`, head, "--not", base, "--"], cwd),
    withDropped ? git(["rev-list", "--count", base, "--not", head, "--"], cwd) : undefined,
  ]);
  const commits: RefDetails["commits"] = [];
  const files = new Set<string>();
  for (const line of log.stdout.split("\n")) {
    if (line.startsWith(HEADER)) {
      const [short, subject] = line.slice(1).split("\0");
      commits.push({ short: short!, subject: subject ?? "" });
    } else if (line && commits.length <= READ_COMMITS) files.add(unquoteCPath(line));
  }
  const sorted = [...files].sort();
  return {
    commits: commits.slice(0, SHOWN_COMMITS),
    count: Math.min(commits.length, READ_COMMITS),
    atLeast: commits.length > READ_COMMITS,
    files: sorted.slice(0, SHOWN_FILES),
    fileCount: sorted.length,
    dropped: dropped?.exitCode === 0 ? Number(dropped.stdout) || 0 : 0,
  };
}

const short = (commit: string) => commit.slice(0, 12);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "2 commits not merged by us: abc1234 subject, ...; they change: a, b" (every name on one line). */
function held(d: RefDetails | undefined, what: string): string {
  if (!d || d.count === 0) return "";
  const list = d.commits.map((c) => `${c.short} ${singleLine(c.subject)}`).join(", ");
  const more = d.count > d.commits.length ? `, and ${d.atLeast ? "more than " : ""}${d.count - d.commits.length} more` : "";
  const files = d.fileCount
    ? `; ${d.count === 1 ? "it changes" : "they change"} ${d.files.map(singleLine).join(", ")}${d.fileCount > d.files.length ? `, and ${d.fileCount - d.files.length} more files` : ""}`
    : "";
  return `; ${d.atLeast ? "more than " : ""}${plural(d.count, "commit")} ${what}: ${list}${more}${files}`;
}

const dropped = (d: RefDetails | undefined, of: string) => (d?.dropped ? `; it no longer holds ${plural(d.dropped, "commit")} of ${of}` : "");

/** The branch name a fix proposes for keeping what a moved ref holds (any name will do). */
const keep = (commit: string) => `kept-${short(commit)}`;

/**
 * What to say about a finding and how to fix it without losing anything: keep what the ref holds
 * on a branch, then put the ref back with a compare-and-swap (it moves only if it is still where
 * the report saw it); for the integration branch, or accept the move at a terminal.
 */
export function describeRef(finding: RefFinding, details: RefDetails | undefined, context: { slug: string; journalDamaged?: boolean }): RefReport {
  const f = finding;
  switch (f.kind) {
    case "moved": {
      const name = f.integration ? `the integration branch ${f.ref.replace(/^refs\/heads\//, "")}` : `the backup ref ${f.ref}`;
      const where = f.integration ? "where our last merge (or the start) left it" : "the tip its task's merge took";
      if (f.actual === undefined) {
        return { finding, message: `${name} is gone (it was at ${short(f.expected)}, ${where})`, fix: `create it again there: ${sh`git update-ref ${f.ref} ${f.expected} ''`}` };
      }
      const damaged = f.integration && context.journalDamaged ? " (the journal of an interrupted sync or merge cannot be read, so a move of ours cannot be told from another)" : "";
      const putBack = `keep what it holds on a branch (any name you choose), then put it back, which happens only if it is still at ${short(f.actual)}: ${sh`git branch ${keep(f.actual)} ${f.actual}`} && ${sh`git update-ref ${f.ref} ${f.expected} ${f.actual}`}`;
      return {
        finding,
        details,
        message: `${name} moved outside claude-parallel's merges${damaged}: it is at ${short(f.actual)}, not at ${short(f.expected)}, ${where}${held(details, "not merged by claude-parallel")}${dropped(details, short(f.expected))}`,
        fix: f.integration
          ? `${putBack} (where it is checked out, run ${sh`git reset --keep ${f.expected}`} there instead of the update-ref); or, if you made this change yourself and want it in the feature, accept it at a terminal: ${sh`claude-parallel accept ${f.actual} ${context.slug}`}`
          : putBack,
      };
    }
    case "stray":
    case "outside": {
      const why =
        f.kind === "stray"
          ? "is not a backup claude-parallel wrote"
          : `was written by an older claude-parallel without its tip, and holds a commit the integration branch (at ${short(f.integrationTip)}) does not`;
      return {
        finding,
        details,
        message: `${f.ref} ${why}: it is at ${short(f.actual)}${held(details, "the integration branch does not hold")}`,
        fix: `keep what it holds on a branch (any name you choose), then remove it, which happens only if it is still at ${short(f.actual)}: ${sh`git branch ${keep(f.actual)} ${f.actual}`} && ${sh`git update-ref -d ${f.ref} ${f.actual}`}`,
      };
    }
    case "off-start": {
      const branch = f.ref.replace(/^refs\/heads\//, "");
      const merge = f.worktree !== undefined ? sh`git -C ${f.worktree} merge ${f.expected}` : `${sh`git merge ${f.expected}`} in a checkout of ${branch}`;
      return {
        finding,
        details,
        message: `task ${f.task}: its branch ${branch} no longer holds ${short(f.expected)}, the commit it started from (rebased, or reset to another history): it is at ${short(f.actual)}${held(details, "not in its start")}${dropped(details, short(f.expected))}`,
        fix: `merge its start back into it, which loses nothing: ${merge}; or put back the branch it was (see ${sh`git reflog show ${f.ref}`}): ${sh`git update-ref ${f.ref}`} <that commit> ${f.actual}`,
      };
    }
  }
}

/** Each finding described, with what git says its ref holds (one `git log` per finding: only when there are findings). */
export async function reportRefs(cwd: string, findings: readonly RefFinding[], context: { slug: string; journalDamaged?: boolean }): Promise<RefReport[]> {
  return Promise.all(
    findings.map(async (f) => {
      const unrelated = f.kind === "outside" || f.kind === "stray";
      const details = f.actual === undefined ? undefined : await refDetails(cwd, unrelated ? f.integrationTip : f.expected, f.actual, !unrelated);
      return describeRef(f, details, context);
    }),
  );
}
