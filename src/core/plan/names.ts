import type * as Crypto from "node:crypto";
import { createRequire } from "node:module";

// node:crypto is loaded only for a title with no ASCII letter or digit: loading it (about twenty
// of Node's internal modules, compiled on first use) cost every `plan` a few milliseconds.
const sha1 = (text: string) => (createRequire(import.meta.url)("node:crypto") as typeof Crypto).createHash("sha1").update(text).digest("hex");

export const TASK_ID_PATTERN = /^[a-z][a-z0-9-]*$/;
export const TASK_ID_MAX = 32;
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const SLUG_MAX = 48;

/**
 * A slug from a feature title: lowercase ASCII letters, digits and single hyphens, at most 48
 * characters. A title with no ASCII letters or digits (say, all CJK) gets a stable hashed slug.
 */
export function slugify(feature: string): string {
  const ascii = feature
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const cut = ascii.slice(0, SLUG_MAX).replace(/-+$/, "");
  if (cut) return cut;
  return `feature-${sha1(feature).slice(0, 8)}`;
}

/**
 * Why `name` is not a valid branch name under `git check-ref-format --branch`, or undefined.
 * Mirrors git's rules (refs.c, check_refname_component) so the plan is rejected before git is run.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.startsWith("-")) return "starts with '-'";
  if (name === "@") return "is '@'";
  if (name === "HEAD") return "is 'HEAD'";
  if (name.startsWith("/")) return "starts with '/'";
  if (name.endsWith("/")) return "ends with '/'";
  if (name.endsWith(".")) return "ends with '.'";
  if (name.includes("..")) return "contains '..'";
  if (name.includes("@{")) return "contains '@{'";
  if (name.includes("//")) return "contains '//'";
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) return `contains ${JSON.stringify(bad[0])}`;
  for (const component of name.split("/")) {
    if (component.startsWith(".")) return `has a component starting with '.' (${component})`;
    if (component.endsWith(".lock")) return `has a component ending with '.lock' (${component})`;
  }
  return undefined;
}

/** A folder-name-safe form of the repository's name, used in worktree folder names. */
export function repoLabel(repoRootBasename: string): string {
  const label = repoRootBasename
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[-.]+|-+$/g, "");
  return label || "repo";
}

export function taskBranch(integrationBranch: string, taskId: string): string {
  return `${integrationBranch}-${taskId}`;
}

/**
 * The worktree folder of a task, as written in the plan (relative to the repository root unless
 * `worktreeRoot` is absolute). The last component is built only from validated names, so it can
 * never climb out of `worktreeRoot`.
 */
export function taskWorktree(worktreeRoot: string, repo: string, slug: string, taskId: string): string {
  const root = worktreeRoot.replace(/\/+$/, "") || "/";
  return `${root === "/" ? "" : root}/${repo}-${slug}-${taskId}`;
}

/** Session labels: A, B, ... Z, AA, AB, ... */
export function sessionLabel(index: number): string {
  let label = "";
  let n = index;
  do {
    label = String.fromCharCode(65 + (n % 26)) + label;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return label;
}

/** "frontend-api" -> "Frontend Api"; "qa" -> "QA" for short role names. */
export function roleTitle(agent: string): string {
  if (agent.length <= 2) return agent.toUpperCase();
  return agent
    .split(/[-_]+/)
    .filter(Boolean)
    .map((word) => (word.length <= 2 ? word.toUpperCase() : word[0]!.toUpperCase() + word.slice(1)))
    .join(" ");
}
