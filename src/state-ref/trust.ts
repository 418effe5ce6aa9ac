import { createHash } from "node:crypto";
import type { ExecutionPlan } from "../core/plan/build.js";
import { singleLine } from "../core/text/single-line.js";

/**
 * What of a shared state runs or instructs: the commands sync runs (the plan's and the tasks'
 * `verify`), what the sessions are told (the feature, each task's title and prompt, its role, the
 * paths it owns, produces and consumes, which also decide what the sync merges), what the hooks
 * enforce (`enforceOwns`), and where the feature writes (its base, which `finish` merges into,
 * its integration branch, and the folder the worktrees are made in), and where `run` sends its
 * notifications (a URL receives the feature's events, a command runs). Scheduling (dependsOn,
 * estimates, maxParallel) is left out: it orders the same work, it does not change it.
 */
export interface TrustedContent {
  slug: string;
  feature: string;
  base: string;
  integrationBranch: string;
  worktreeRoot: string;
  verify?: string;
  enforceOwns: string;
  notify?: NonNullable<ExecutionPlan["notify"]>;
  tasks: TrustedTask[];
}

interface TrustedTask {
  id: string;
  agent: string;
  title: string;
  prompt: string;
  owns: string[];
  produces: string[];
  consumes: string[];
  verify?: string;
}

/** The trusted part of a plan, in a fixed order (its digest is over this exact shape). */
export function trustedContent(plan: ExecutionPlan): TrustedContent {
  const tasks = plan.phases
    .flatMap((p) => p.tasks)
    .map(
      (t): TrustedTask => ({
        id: t.id,
        agent: t.agent,
        title: t.title,
        prompt: t.prompt,
        owns: t.owns,
        produces: t.produces,
        consumes: t.consumes,
        ...(t.verify !== undefined && { verify: t.verify }),
      }),
    )
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    slug: plan.slug,
    feature: plan.feature,
    base: plan.base,
    integrationBranch: plan.integrationBranch,
    worktreeRoot: plan.worktreeRoot,
    ...(plan.verify !== undefined && { verify: plan.verify }),
    enforceOwns: plan.enforceOwns ?? "deny",
    // Only when there are any: the digest of a plan without notify stays what it was.
    ...(plan.notify !== undefined && { notify: plan.notify }),
    tasks,
  };
}

/** The digest `claude-parallel allow` records: sha256 over the trusted content (the slug included). */
export function trustDigest(content: TrustedContent): string {
  return createHash("sha256")
    .update(`claude-parallel trust 1\n${JSON.stringify(content)}`)
    .digest("hex");
}

export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** `allowed`: by the user's record of `digest` (trust-records.ts). */
export type TrustDecision = { kind: "trusted"; why: "unchanged" } | { kind: "trusted"; why: "allowed"; digest: string } | { kind: "ask"; digest: string; changes: string[] };

/**
 * Whether this clone may adopt a shared state whose trusted content is `incoming`: yes when it is
 * what this clone already trusts (`trusted`: its frozen plan, or for a feature new here the user's
 * own plan file), or when the user allowed its digest; otherwise the changes to show. Pure.
 */
export function decideTrust(f: { incoming: TrustedContent; trusted?: TrustedContent; allowed: boolean }): TrustDecision {
  const changes = trustChanges(f.trusted, f.incoming);
  if (changes.length === 0) return { kind: "trusted", why: "unchanged" };
  const digest = trustDigest(f.incoming);
  if (f.allowed) return { kind: "trusted", why: "allowed", digest };
  return { kind: "ask", digest, changes };
}

const TOP: ReadonlyArray<[keyof TrustedContent & string, string]> = [
  ["feature", "feature"],
  ["base", "base (finish merges into it)"],
  ["integrationBranch", "integrationBranch"],
  ["worktreeRoot", "worktreeRoot"],
  ["verify", "verify (run on every merged phase)"],
  ["enforceOwns", "enforceOwns"],
  ["notify", "notify (where run's notifications go; a command runs)"],
];
const TASK: ReadonlyArray<[keyof TrustedTask & string, string]> = [
  ["agent", "agent"],
  ["title", "title"],
  ["prompt", "prompt"],
  ["owns", "owns"],
  ["produces", "produces"],
  ["consumes", "consumes"],
  ["verify", "verify (run in its worktree)"],
];

/**
 * The difference from `before` (undefined: nothing is trusted here yet) to `after`, as lines to
 * print: each changed field with its old (`-`) and new (`+`) value, text quoted as JSON (one line,
 * every control character escaped) or, when it spans lines, line by line with a `|` so no line of
 * it can pass for a line of the listing. Pure.
 */
export function trustChanges(before: TrustedContent | undefined, after: TrustedContent): string[] {
  const lines: string[] = [];
  const field = (indent: string, label: string, was: unknown, now: unknown) => {
    if (same(was, now)) return;
    lines.push(`${indent}${label}:`);
    if (typeof was === "string" && typeof now === "string" && (isMultiLine(was) || isMultiLine(now))) lines.push(...textDiff(`${indent}  `, was, now));
    else {
      if (was !== undefined) lines.push(...valueLines(`${indent}  - `, was));
      if (now !== undefined) lines.push(...valueLines(`${indent}  + `, now));
    }
  };
  for (const [key, label] of TOP) field("  ", label, before?.[key], after[key]);
  const old = new Map((before?.tasks ?? []).map((t) => [t.id, t]));
  const ids = new Set(after.tasks.map((t) => t.id));
  for (const t of before?.tasks ?? []) if (!ids.has(t.id)) lines.push(`  - task ${t.id} (${JSON.stringify(t.title)}) is gone`);
  for (const t of after.tasks) {
    const was = old.get(t.id);
    const at = lines.length;
    for (const [key, label] of TASK) field("    ", label, was?.[key], t[key]);
    if (lines.length > at) lines.splice(at, 0, was ? `  task ${t.id}:` : `  + task ${t.id} (new):`);
  }
  return lines;
}

/** An empty list is no list: a new task's fields are shown only when they say something. */
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? (Array.isArray(b) ? [] : undefined)) === JSON.stringify(b ?? (Array.isArray(a) ? [] : undefined));
const isMultiLine = (s: string) => /[\r\n\u0085\u2028\u2029]/.test(s);
const valueLines = (prefix: string, v: unknown) => (typeof v === "string" && isMultiLine(v) ? textLines(prefix.replace(/ $/, ""), v) : [`${prefix}${show(v)}`]);
const show = (v: unknown) => singleLine(JSON.stringify(v));
const textLines = (prefix: string, text: string) => text.split(/\r\n|\n/).map((l) => `${prefix} | ${singleLine(l)}`);

/** Two texts line by line: the lines they share at the start and end are counted, the rest shown. */
function textDiff(indent: string, was: string, now: string): string[] {
  const a = was.split(/\r\n|\n/);
  const b = now.split(/\r\n|\n/);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out: string[] = [];
  if (head) out.push(`${indent}(${head} unchanged ${head === 1 ? "line" : "lines"})`);
  for (const l of a.slice(head, a.length - tail)) out.push(`${indent}- | ${singleLine(l)}`);
  for (const l of b.slice(head, b.length - tail)) out.push(`${indent}+ | ${singleLine(l)}`);
  if (tail) out.push(`${indent}(${tail} unchanged ${tail === 1 ? "line" : "lines"})`);
  return out;
}
