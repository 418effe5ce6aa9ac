import { RefusedError } from "../core/errors.js";
import { quote } from "../core/text/shell.js";
import { unquoteCPath } from "./c-quoted-path.js";
import { gitOkBounded } from "./run.js";

/** What the commits of some branches since a common base tell, from one `git log`. */
export interface BranchHistory {
  /** How many commits `head` has that the base does not (merges included), nor `except` when given. */
  ahead(head: string, except?: string): number;
  /**
   * The files `head` changed itself: those its own commits change, leaving out what it merged: the
   * commits the base or `integration` has, and each sibling's own commits (`git merge <sibling>`,
   * as we propose for a conflict). Every commit of `head`'s first-parent line is its own (what
   * was committed on that branch), even one on a sibling's line too (a fast-forward onto the
   * sibling's branch, or the sibling's onto it: then it counts for both). A commit off its line
   * that one of its merges brought in is its own unless that merge reached it through a commit of
   * a sibling's line (it took the sibling's work, side branches the sibling merged included). So
   * every commit some branch holds counts for at least one of them (following such commits back
   * ends at a branch that merged it in by itself): none is passed off as a sibling's by getting
   * the sibling to merge it. A merge commit of its own counts with the files edited in it by
   * hand: where it differs from git's automatic merge of its parents (a conflict resolved, or an
   * edit slipped into the merge), never what a parent brought. Both sides of a rename count:
   * moving another task's file away changes that file.
   */
  ownChanges(head: string, siblings: readonly string[], integration?: string): Set<string>;
  /**
   * Of the files ownChanges names, those that only its merge commits changed (edited in them by
   * hand: no commit of its own lists them), each with such a merge: where to look for them.
   */
  changedInMerges(head: string, siblings: readonly string[], integration?: string): Map<string, string>;
  /**
   * The own commits of `head` (as ownChanges counts them) that merge more than two parents at once:
   * git cannot merge them again, so what was edited in them by hand is not known.
   */
  octopusMerges(head: string, siblings: readonly string[], integration?: string): string[];
  /**
   * Whether `commit` is `head` or in its history, for a `commit` that is the base or descends from
   * it (the base is held when a commit read has it as a parent; a commit the walk did not reach is
   * not held). How a task branch is found to still hold the commit it started from.
   */
  holds(head: string, commit: string): boolean;
}

const HEADER = "\x01";

/** How much `git log` output branchHistory reads: past it, it refuses rather than check part of the commits. */
const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/** A branch whose tip is among the heads, named in the refusal when its history is too long to read. */
interface NamedHead {
  commit: string;
  branch: string;
  task?: string;
}

/**
 * Reads every commit reachable from `heads` and not from `base` in one `git log` (parents and
 * changed files), then answers per head; `others` must be among `heads`. No base (a missing
 * integration branch): nothing is read and no head has commits. Without `-z`, git quotes any
 * path holding a control character, so a line that starts with the header's one is a commit.
 * A merge's files are its remerge-diff's: those that differ from git's own merge of its parents,
 * made again in a temporary object store (names only: an automatic merge that conflicted differs
 * by its conflict markers in the file the merge resolved). git prints a warning in place of the
 * files of an octopus merge, which it does not merge again: not read. An output longer than
 * `maxBytes` is refused (RefusedError, history-too-large), naming each of `named` whose history
 * alone is too long (else all of them): part of it would let changed files go unchecked.
 */
export async function branchHistory(cwd: string, base: string | undefined, heads: readonly string[], options: { named?: readonly NamedHead[]; maxBytes?: number } = {}): Promise<BranchHistory> {
  const parents = new Map<string, string[]>();
  const files = new Map<string, string[]>();
  const wanted = [...new Set(heads)];
  if (base !== undefined && wanted.length) {
    // Against the repository's config: log.showSignature=true would print a line per signed commit
    // among its files, log.showRoot=false would hide the files of a root commit (an unrelated
    // history merged in). Children before their parents (--topo-order): git log drops the parents
    // of each commit it has shown (the gits we support do; fixed upstream late in 2024), and the
    // remerge of a later merge then finds no merge base through it: a clean merge would show each
    // file one side changed as an add/add conflict.
    const maxBytes = options.maxBytes ?? MAX_HISTORY_BYTES;
    const log = (from: readonly string[]) =>
      gitOkBounded(
        ["log", "--no-show-signature", "--root", "--topo-order", `--format=${HEADER}%H %P`, "--name-only", "--diff-merges=remerge", "--no-renames", ...from, "--not", base, "--"],
        cwd,
        maxBytes,
      );
    const out = await log(wanted);
    if (out === undefined) throw await tooLong(base, options.named ?? [], maxBytes, async (head) => (await log([head])) === undefined);
    let current: string[] | undefined;
    for (const line of out.split("\n")) {
      if (line.startsWith(HEADER)) {
        const [commit, ...ps] = line.slice(1).split(" ").filter(Boolean);
        parents.set(commit!, ps);
        files.set(commit!, (current = []));
        if (ps.length > 2) current = undefined;
      } else if (line && current) current.push(unquoteCPath(line));
    }
  }
  return historyOf(base, parents, files);
}

/** The refusal of a history too long to read, naming the branches whose own history is (all of them when none alone is). */
async function tooLong(base: string, named: readonly NamedHead[], maxBytes: number, alone: (head: string) => Promise<boolean>): Promise<RefusedError> {
  const long = new Set<string>();
  for (const commit of new Set(named.map((n) => n.commit))) if (await alone(commit)) long.add(commit);
  const start = base.slice(0, 12);
  const over = `change more files than claude-parallel reads to check them against the owned paths (over ${Math.ceil(maxBytes / 1024 / 1024)} MiB of file names)`;
  const fewer = "so that its commits change fewer files (generated or vendored files do not belong in a task's branch), then run the command again";
  if (long.size)
    return new RefusedError(
      named
        .filter((n) => long.has(n.commit))
        .map((n) => ({
          code: "history-too-large",
          ...(n.task !== undefined && { task: n.task }),
          message: `the commits of ${n.branch} since ${start} ${over}`,
          fix: `rewrite ${quote(n.branch)} ${fewer}: git log --stat ${start}..${quote(n.branch)} lists them`,
        })),
    );
  const branches = named.map((n) => n.branch).join(", ") || "the feature's branches";
  return new RefusedError([
    { code: "history-too-large", message: `the commits of ${branches} since ${start} together ${over}`, fix: `rewrite the branch whose commits change the most files ${fewer}` },
  ]);
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
  /**
   * The commits `head` made itself, merges included (see ownChanges). Its first-parent line, oldest
   * first; at each commit of it, the commits it brings in (a merge's other parents' history that
   * its first parent does not hold) are `head`'s unless reached through a commit of a sibling's
   * line: a walk from those parents that turns "taken" past such a commit.
   */
  const ownCommits = (head: string, siblings: readonly string[], integration: string | undefined): string[] => {
    const merged = integration === undefined || integration === head ? new Set<string>() : reach(integration);
    const theirLines = new Set(siblings.filter((o) => o !== head).flatMap((o) => [...firstParents(o)]));
    const own: string[] = [];
    // What the line holds below the commit at hand, then with it: the walk never goes past it.
    const held = new Set<string>();
    for (const commit of [...firstParents(head)].reverse()) {
      if (merged.has(commit)) continue;
      own.push(commit);
      const found = new Set<string>();
      const taken = new Set<string>();
      const stack = parents
        .get(commit)!
        .slice(1)
        .map((p) => ({ commit: p, took: false }));
      while (stack.length) {
        const at = stack.pop()!;
        const took = at.took || theirLines.has(at.commit);
        if (held.has(at.commit) || merged.has(at.commit) || !parents.has(at.commit) || (took ? taken : found).has(at.commit)) continue;
        (took ? taken : found).add(at.commit);
        for (const p of parents.get(at.commit)!) stack.push({ commit: p, took });
      }
      for (const c of found) if (!taken.has(c)) own.push(c);
      for (const c of [commit, ...found, ...taken]) held.add(c);
    }
    return own;
  };
  return {
    ahead(head, except) {
      const theirs = except === undefined ? undefined : reach(except);
      return theirs === undefined ? reach(head).size : [...reach(head)].filter((c) => !theirs.has(c)).length;
    },
    ownChanges(head, siblings, integration) {
      const changed = new Set<string>();
      for (const commit of ownCommits(head, siblings, integration)) for (const f of files.get(commit)!) changed.add(f);
      return changed;
    },
    changedInMerges(head, siblings, integration) {
      const own = ownCommits(head, siblings, integration);
      const inMerges = new Map<string, string>();
      for (const commit of own) if (parents.get(commit)!.length > 1) for (const f of files.get(commit)!) inMerges.set(f, commit);
      for (const commit of own) if (parents.get(commit)!.length <= 1) for (const f of files.get(commit)!) inMerges.delete(f);
      return inMerges;
    },
    octopusMerges(head, siblings, integration) {
      return ownCommits(head, siblings, integration).filter((commit) => parents.get(commit)!.length > 2);
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
