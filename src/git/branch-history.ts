import { unquoteCPath } from "./c-quoted-path.js";
import { gitOk } from "./run.js";

/** What the commits of some branches since a common base tell, from one `git log`. */
export interface BranchHistory {
  /** How many commits `head` has that the base does not (merges included), nor `except` when given. */
  ahead(head: string, except?: string): number;
  /**
   * The files the non-merge commits of `head` change, leaving out commits the base or any of
   * `others` also has: what a task changed itself, not what it merged from its phase's other
   * branches (`git merge <sibling>`, as we propose for a conflict) or from the integration branch.
   * Both sides of a rename count: moving another task's file away changes that file.
   */
  ownChanges(head: string, others: readonly string[]): Set<string>;
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
  return {
    ahead(head, except) {
      const theirs = except === undefined ? undefined : reach(except);
      return theirs === undefined ? reach(head).size : [...reach(head)].filter((c) => !theirs.has(c)).length;
    },
    ownChanges(head, others) {
      const theirs = new Set(others.filter((o) => o !== head).flatMap((o) => [...reach(o)]));
      const changed = new Set<string>();
      for (const commit of reach(head)) {
        if (theirs.has(commit) || parents.get(commit)!.length > 1) continue;
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
