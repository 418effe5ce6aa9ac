import { EnvironmentError, ProcessError } from "../core/errors.js";
import type { MergeSettings } from "../core/plan/build.js";
import { git, gitVersion } from "../git/run.js";
import { commitOf } from "../git/repo.js";

/** A file's entry in a tree or an index stage: its mode and object. */
export interface Entry {
  mode: string;
  oid: string;
}

/** What git left of one conflicting file: its version in the merge base (a virtual one, when there were several) and on each side; absent where the file is not there. */
export interface ConflictStages {
  path: string;
  base?: Entry;
  ours?: Entry;
  theirs?: Entry;
}

interface MergePreview {
  /** The merged tree, written to the object store only (no checkout or ref changes). */
  tree: string;
  /** Files with conflicts; empty when the merge is clean. */
  conflicts: string[];
  /** Per conflicting file, in the order of `conflicts`: what the base and each side hold. */
  stages: ConflictStages[];
}

/** `git merge-tree -X` came with git 2.43. */
const MERGE_TREE_OPTIONS: readonly [number, number] = [2, 43];

/**
 * The `-X` options a merge's settings give `git merge-tree` and `git merge` alike: `subtree` is
 * ort shifting one side's tree, which is what `-s subtree` asks of git. `swapSides`: for the merge
 * the other way round (the other branch into the task's), where "ours" and "theirs" trade places.
 */
export function strategyOptions(settings: MergeSettings | undefined, swapSides = false): string[] {
  if (!settings) return [];
  const swap = (o: string) => (!swapSides ? o : o === "ours" ? "theirs" : o === "theirs" ? "ours" : o);
  const shifts = settings.options.some((o) => o === "subtree" || o.startsWith("subtree="));
  return [...(settings.strategy === "subtree" && !shifts ? ["subtree"] : []), ...settings.options.map(swap)];
}

/** The same as git arguments. */
export const strategyArgs = (settings: MergeSettings | undefined): string[] => strategyOptions(settings).flatMap((o) => ["-X", o]);

let versionAsked: ReturnType<typeof gitVersion> | undefined;

/** Refuses, before anything is merged, settings this git's merge-tree cannot apply. */
export async function requireMergeSettings(cwd: string, settings: MergeSettings | undefined): Promise<void> {
  const options = strategyOptions(settings);
  if (!options.length) return;
  const version = await (versionAsked ??= gitVersion(cwd));
  const [major, minor] = MERGE_TREE_OPTIONS;
  if (version && (version.major > major || (version.major === major && version.minor >= minor))) return;
  throw new EnvironmentError(
    `the plan's \`merge\` asks for \`${options.map((o) => `-X ${o}`).join(" ")}\`, which \`git merge-tree\` takes from git ${MERGE_TREE_OPTIONS.join(".")} on; this is git ${version?.text ?? "(unknown)"}`,
    `install git ${MERGE_TREE_OPTIONS.join(".")} or newer, or remove \`merge\` from the plan and apply that with claude-parallel replan`,
  );
}

/**
 * Merges two commits in memory with `git merge-tree --write-tree`. Both must be resolved first:
 * merge-tree exits 1 for an unknown ref just as for a conflict. Output is read NUL-separated
 * (-z), so no file name is mangled on the way; a conflicting file comes with its index stages
 * (1: the merge base git used, 2: ours, 3: theirs).
 */
export async function previewMerge(cwd: string, ours: string, theirs: string, options: { resolved?: boolean; settings?: MergeSettings } = {}): Promise<MergePreview> {
  // `resolved`: both are commit ids the caller got from git itself, so nothing to look up.
  const [a, b] = options.resolved ? [ours, theirs] : await Promise.all([commitOf(ours, cwd), commitOf(theirs, cwd)]);
  if (!a) throw new Error(`cannot merge: ${ours} is not a commit`);
  if (!b) throw new Error(`cannot merge: ${theirs} is not a commit`);
  await requireMergeSettings(cwd, options.settings);
  const args = ["merge-tree", "--write-tree", "-z", "--no-messages", ...strategyArgs(options.settings), a, b];
  const r = await git(args, cwd);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new ProcessError({ file: "git", args, cwd, exitCode: r.exitCode, stderr: r.stderr });
  const [tree, ...rest] = r.stdout.split("\0");
  const byPath = new Map<string, ConflictStages>();
  for (const record of rest) {
    if (record === "") break; // end of the conflicted-file list
    // `<mode> <object> <stage>\t<path>`
    const tab = record.indexOf("\t");
    const [mode, oid, stage] = record.slice(0, tab).split(" ");
    const path = record.slice(tab + 1);
    const stages = byPath.get(path) ?? { path };
    byPath.set(path, stages);
    stages[stage === "1" ? "base" : stage === "2" ? "ours" : "theirs"] = { mode: mode!, oid: oid! };
  }
  const stages = r.exitCode === 1 ? [...byPath.values()] : [];
  return { tree: tree!, conflicts: stages.map((s) => s.path), stages };
}
