import type { ConflictStages, Entry } from "./merge-tree.js";
import { isAncestor } from "../git/repo.js";
import { git, gitOk, nulFields } from "../git/run.js";
import type { ConflictExplanation, ConflictSource, PathConflict, SideChange } from "../core/render/conflict-report.js";

/** A branch whose merge into the task's brings the other side's version along. */
interface Carrier {
  branch: string;
  tip: string;
}

/** What attribution knows: each commit's versions of the conflicting files. */
export interface Known {
  task: string;
  /** The task's start commit; the integration tip the merge order began on. */
  start: string;
  integration: { branch: string; tip: string };
  /** Merge bases git used (several: a virtual base made of them), with their subjects. */
  bases: ReadonlyArray<{ commit: string; subject: string }>;
  /** The tasks merged before this one, in order. */
  earlier: ReadonlyArray<{ id: string; branch: string; tip: string }>;
  /** Tasks merged into the integration branch since the task's branch started (a rolling run). */
  integrationTasks: readonly string[];
  /** A commit's version of a conflicting file (undefined: not there). */
  at(commit: string, path: string): Entry | undefined;
}

const same = (a: Entry | undefined, b: Entry | undefined) => (a === undefined ? b === undefined : b !== undefined && a.mode === b.mode && a.oid === b.oid);

function changeOf(side: Entry | undefined, base: Entry | undefined): SideChange["change"] {
  if (side === undefined) return base === undefined ? "absent" : "deleted";
  if (base === undefined) return "added";
  return same(side, base) ? "kept" : "changed";
}

/** A version that did not come from either side's work: the start, or a merge base both sides share that is no branch of the feature. Pure. */
function inherited(version: Entry | undefined, path: string, k: Known): ConflictSource | undefined {
  if (same(version, k.at(k.start, path))) return { kind: "start", commit: k.start };
  const ours = new Set([k.start, k.integration.tip, ...k.earlier.map((e) => e.tip)]);
  const base = k.bases.find((b) => !ours.has(b.commit) && same(version, k.at(b.commit, path)));
  return base && { kind: "shared", commit: base.commit, subject: base.subject };
}

/**
 * Where each side's version of one conflicting file came from, compared with what the start, the
 * merge bases, the integration tip and the earlier tasks' tips hold; and the branches that carry
 * the version merged onto (whose merge into the task's brings the conflict there). Pure.
 */
export function attributePath(s: ConflictStages, k: Known): { conflict: PathConflict; carriers: Carrier[] } {
  const ours: SideChange = { change: changeOf(s.ours, s.base) };
  const theirs: SideChange = { change: changeOf(s.theirs, s.base) };
  const carriers: Carrier[] = [];
  if (ours.change !== "kept" && ours.change !== "absent") {
    const holders = k.earlier.filter((e) => same(s.ours, k.at(e.tip, s.path)));
    const integrationHolds = same(s.ours, k.at(k.integration.tip, s.path));
    const changers = k.earlier.filter((e) => !same(k.at(e.tip, s.path), k.at(k.start, s.path)));
    ours.source =
      inherited(s.ours, s.path, k) ??
      (integrationHolds && k.integration.tip !== k.start
        ? { kind: "integration", tasks: [...k.integrationTasks] }
        : holders.length
          ? { kind: "task", tasks: holders.map((e) => e.id) }
          : { kind: "merged", tasks: changers.map((e) => e.id) });
    if (holders.length && ours.source.kind !== "task") ours.via = holders.map((e) => e.id);
    // Held by no branch alone (the merge order's own making): every earlier task that changed it.
    for (const e of holders.length ? holders : changers) carriers.push(e);
    if (integrationHolds || (!holders.length && !same(k.at(k.integration.tip, s.path), k.at(k.start, s.path)))) carriers.push(k.integration);
  }
  if (theirs.change !== "kept" && theirs.change !== "absent") theirs.source = inherited(s.theirs, s.path, k) ?? { kind: "self", task: k.task };
  return { conflict: { path: s.path, ours, theirs }, carriers };
}

/** The other side in words, once each. Pure. */
function sourceNames(paths: readonly PathConflict[]): string[] {
  const names: string[] = [];
  const add = (n: string) => void (names.includes(n) || names.push(n));
  for (const p of paths) {
    const source = p.ours.source;
    if (!source) continue;
    if (source.kind === "task" || source.kind === "merged") source.tasks.forEach(add);
    else if (source.kind === "integration") (source.tasks.length ? source.tasks : ["the integration branch"]).forEach(add);
    else if (source.kind === "start") add("the phase's start");
    else if (source.kind === "shared") add(source.commit.slice(0, 12));
  }
  return names;
}

/** Paths per `ls-tree`: a command line holds a few hundred long ones. */
const PATHS_PER_CALL = 200;

/** Each commit's versions of `paths`, one `ls-tree` per commit (per 200 paths), side by side. */
async function versionsAt(cwd: string, commits: readonly string[], paths: readonly string[]): Promise<Map<string, Map<string, Entry>>> {
  const unique = [...new Set(commits)];
  const chunks = Array.from({ length: Math.ceil(paths.length / PATHS_PER_CALL) }, (_, i) => paths.slice(i * PATHS_PER_CALL, (i + 1) * PATHS_PER_CALL));
  const listed = await Promise.all(
    unique.map(async (c) => (await Promise.all(chunks.map((chunk) => gitOk(["--literal-pathspecs", "ls-tree", "-z", "--full-tree", c, "--", ...chunk], cwd)))).join("\0")),
  );
  const wanted = new Set(paths);
  const out = new Map<string, Map<string, Entry>>();
  unique.forEach((commit, i) => {
    const entries = new Map<string, Entry>();
    for (const record of nulFields(listed[i]!)) {
      // `<mode> <type> <object>\t<path>`
      const tab = record.indexOf("\t");
      const [mode, , oid] = record.slice(0, tab).split(" ");
      const path = record.slice(tab + 1);
      if (wanted.has(path)) entries.set(path, { mode: mode!, oid: oid! });
    }
    out.set(commit, entries);
  });
  return out;
}

/**
 * Names what really changed each conflicting file on each side of a merge (`ours` onto `theirs`,
 * the task's branch), from the merge bases git used, and the fix that changes the outcome: the
 * branches carrying the other side's version that the task's branch does not hold yet, merged into
 * it; or, when it holds them all, nothing a merge can do (a decision).
 */
export async function explainConflict(
  cwd: string,
  input: {
    ours: string;
    theirs: string;
    stages: readonly ConflictStages[];
    task: string;
    start: string;
    integration: { branch: string; tip: string };
    earlier: ReadonlyArray<{ id: string; branch: string; tip: string }>;
    /** Tasks merged into the integration branch since the task's branch started (asked only when that branch is the other side). */
    integrationTasks?: () => Promise<string[]>;
    /** The plan's `-X` options for this merge, sides swapped: the fix merges the other way. */
    fixOptions: string[];
  },
): Promise<ConflictExplanation> {
  const paths = input.stages.map((s) => s.path);
  // No merge base (unrelated histories): git merged onto an empty tree.
  const bases = (await git(["merge-base", "--all", input.ours, input.theirs], cwd)).stdout.split("\n").filter(Boolean);
  const [versions, subjects] = await Promise.all([
    versionsAt(cwd, [input.start, input.integration.tip, ...bases, ...input.earlier.map((e) => e.tip)], paths),
    bases.length ? gitOk(["log", "--no-walk=unsorted", "--format=%H %s", ...bases], cwd) : Promise.resolve(""),
  ]);
  const subjectOf = new Map(
    subjects
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
  );
  const known: Known = {
    task: input.task,
    start: input.start,
    integration: input.integration,
    bases: bases.map((commit) => ({ commit, subject: subjectOf.get(commit) ?? "" })),
    earlier: input.earlier,
    integrationTasks: [],
    at: (commit, path) => versions.get(commit)?.get(path),
  };
  const attributed = input.stages.map((s) => attributePath(s, known));
  if (input.integrationTasks && attributed.some((a) => a.conflict.ours.source?.kind === "integration")) {
    const tasks = await input.integrationTasks();
    for (const a of attributed) if (a.conflict.ours.source?.kind === "integration") a.conflict.ours.source = { kind: "integration", tasks };
  }
  const split = async (carriers: readonly Carrier[]) => {
    const unique = [...new Map(carriers.map((c) => [c.branch, c])).values()];
    const held = await Promise.all(unique.map((c) => isAncestor(c.tip, input.theirs, cwd)));
    return { missing: unique.filter((_, i) => !held[i]).map((c) => c.branch), held: unique.filter((_, i) => held[i]).map((c) => c.branch) };
  };
  // The branches that carry the other side's version; when the task's holds them all (a merge base
  // of their making differs), every branch on the other side whose version differs from the task's.
  const carriers = await split(attributed.flatMap((a) => a.carriers));
  const differ = (tip: string) => input.stages.some((s) => !same(known.at(tip, s.path), s.theirs));
  const missing = carriers.missing.length ? carriers.missing : (await split([...input.earlier, input.integration].filter((b) => differ(b.tip)))).missing;
  const held = carriers.missing.length ? [] : carriers.held;
  const conflicts = attributed.map((a) => a.conflict);
  return { paths: conflicts, fix: missing.length ? { kind: "merge", branches: missing, options: input.fixOptions, held } : { kind: "decide" }, with: sourceNames(conflicts) };
}
