import { unquoteCPath } from "./c-quoted-path.js";
import { gitOk } from "./run.js";

/** What the commits of some branches since a common base tell, from one `git log`. */
export interface BranchHistory {
  /** How many commits `head` has that the base does not (merges included), nor `except` when given. */
  ahead(head: string, except?: string): number;
  /**
   * The files the non-merge commits of `head` change, leaving out what it merged: the commits the
   * base or `integration` has, and each sibling's own commits (`git merge <sibling>`, as we
   * propose for a conflict). A commit two branches hold is the sibling's when it lies on the
   * sibling's first-parent line (that branch made it) and not on `head`'s; a commit of `head`'s
   * own line, or one no sibling holds (a side branch it merged), is `head`'s. So a conflict
   * resolved by merging a sibling leaves the sibling's changes with the sibling.
   * Both sides of a rename count: moving another task's file away changes that file.
   */
  ownChanges(head: string, siblings: readonly string[], integration?: string): Set<string>;
  /**
   * Whether `commit` is `head` or in its history, for a `commit` that is the base or descends from
   * it (the base is held when a commit read has it as a parent; a commit the walk did not reach is
   * not held). How a task branch is found to still hold the commit it started from.
   */
  holds(head: string, commit: string): boolean;
}

const HEADER = "\x01";

/**
 * Reads every commit reachable from `heads` and not from `base` in one `git log` (parents and
 * changed files), then answers per head; `others` must be among `heads`. No base (a missing
 * integration branch): nothing is read and no head has commits. Without `-z`, git quotes any
 * path holding a control character, so a line that starts with the header's one is a commit.
 */
export async function branchHistory(cwd: string, base: string | undefined, heads: readonly string[]): Promise<BranchHistory> {
  const parents = new Map<string, string[]>();
  const files = new Map<string, string[]>();
  const wanted = [...new Set(heads)];
  if (base !== undefined && wanted.length) {
    // Against the repository's config: log.showSignature=true would print a line per signed commit
    // among its files, log.showRoot=false would hide the files of a root commit (an unrelated
    // history merged in).
    const out = await gitOk(["log", "--no-show-signature", "--root", `--format=${HEADER}%H %P`, "--name-only", "--diff-merges=off", "--no-renames", ...wanted, "--not", base, "--"], cwd);
    let current: string[] | undefined;
    for (const line of out.split("\n")) {
      if (line.startsWith(HEADER)) {
        const [commit, ...ps] = line.slice(1).split(" ").filter(Boolean);
        parents.set(commit!, ps);
        files.set(commit!, (current = []));
      } else if (line && current) current.push(unquoteCPath(line));
    }
  }
  return historyOf(base, parents, files);
}

/** The answers from what the `git log` read: each commit's parents and changed files. Pure. */
export function historyOf(base: string | undefined, parents: ReadonlyMap<string, readonly string[]>, files: ReadonlyMap<string, readonly string[]>): BranchHistory {
  const reached = new Map<string, Set<string>>();
  const reach = (head: string): Set<string> => {
    let found = reached.get(head);
    if (found) return found;
    found = new Set();
    const stack = parents.has(head) ? [head] : [];
    while (stack.length) {
      const commit = stack.pop()!;
      if (found.has(commit)) continue;
      found.add(commit);
      for (const p of parents.get(commit) ?? []) if (parents.has(p) && !found.has(p)) stack.push(p);
    }
    reached.set(head, found);
    return found;
  };
  /** The commits of `head`'s first-parent line since the base: what was committed on that branch. */
  const firstParents = (head: string): Set<string> => {
    const line = new Set<string>();
    for (let commit: string | undefined = head; commit !== undefined && parents.has(commit) && !line.has(commit); commit = parents.get(commit)![0]) line.add(commit);
    return line;
  };
  return {
    ahead(head, except) {
      const theirs = except === undefined ? undefined : reach(except);
      return theirs === undefined ? reach(head).size : [...reach(head)].filter((c) => !theirs.has(c)).length;
    },
    ownChanges(head, siblings, integration) {
      const merged = integration === undefined || integration === head ? new Set<string>() : reach(integration);
      const others = siblings.filter((o) => o !== head);
      const theirs = new Set(others.flatMap((o) => [...reach(o)]));
      const theirLines = new Set(others.flatMap((o) => [...firstParents(o)]));
      const line = firstParents(head);
      const changed = new Set<string>();
      for (const commit of reach(head)) {
        if (merged.has(commit) || parents.get(commit)!.length > 1) continue;
        if (theirLines.has(commit) || (theirs.has(commit) && !line.has(commit))) continue;
        for (const f of files.get(commit)!) changed.add(f);
      }
      return changed;
    },
    holds(head, commit) {
      if (head === commit) return true;
      const history = reach(head);
      if (commit !== base) return history.has(commit);
      for (const c of history) if (parents.get(c)!.includes(commit)) return true;
      return false;
    },
  };
}
