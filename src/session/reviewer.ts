import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { MAX_BYTES } from "../core/state/bounds.js";
import { reviewLogPath, reviewRecordPath, reviewWorktreePath } from "../core/state/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readJsonFile } from "../feature/store.js";
import { quote } from "../core/text/shell.js";
import * as z from "zod/mini";
import { gitOk } from "../git/run.js";
import { run } from "../proc.js";
import { lastResult } from "./sessions.js";
import { discardVerifyTree } from "../merge/verify-merged.js";
import type { ReviewRound } from "../core/decide/decide-review.js";
import { parseVerdict } from "../core/review/verdict.js";

/** The most of the phase's diff the prompt carries; the reviewer reads the files for the rest. */
const MAX_DIFF = 200 * 1024;
/** The reviewer's own stream-json output, kept as its log. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * The claude arguments of a review: print mode, read-only tools, and nothing of the repository's
 * own configuration. The merged tree holds what the sessions wrote, `.claude/settings.json` and
 * `.mcp.json` included: `--restricted` ignores project and user settings (hooks), and
 * `--strict-mcp-config` every MCP server not given here (none).
 */
export function reviewerArgs(prompt: string, o: { budgetUsd?: number; model?: string }): string[] {
  const args = [
    "-p",
    prompt,
    "--output-format",
    "stream-json",
    "--verbose",
    "--restricted",
    "--strict-mcp-config",
    "--tools",
    "Read,Grep,Glob",
    "--allowedTools",
    "Read,Grep,Glob",
    "--permission-prompts",
    "none",
  ];
  if (o.model) args.push("--model", o.model);
  if (o.budgetUsd !== undefined) args.push("--max-budget-usd", String(o.budgetUsd));
  return args;
}

/** `git diff` from the published tip to the merged result: no external diff program, no textconv filter (the tree is the sessions'). */
export async function phaseDiff(mainRoot: string, from: string, to: string): Promise<{ diff: string; cut: boolean }> {
  const diff = await gitOk(["diff", "--no-ext-diff", "--no-textconv", "--no-color", from, to, "--"], mainRoot);
  return diff.length > MAX_DIFF ? { diff: `${diff.slice(0, MAX_DIFF)}\n[... cut]`, cut: true } : { diff, cut: false };
}

/**
 * Runs one review of `commit` in a detached worktree of its own, keeps the session's log, and
 * returns the round to record: a verdict, or why there is none. Never throws for the reviewer's
 * failure: the gate then asks the user.
 */
export async function review(o: {
  claude: string;
  mainRoot: string;
  commonDir: string;
  slug: string;
  phase: number;
  round: number;
  commit: string;
  tree: string;
  prompt: string;
  budgetUsd?: number;
  model?: string;
  now: () => Date;
}): Promise<ReviewRound> {
  const dir = reviewWorktreePath(o.commonDir, o.slug);
  await discardVerifyTree(o.mainRoot, o.commonDir, dir);
  await gitOk(["worktree", "add", "--quiet", "--detach", "--", dir, o.commit], o.mainRoot);
  try {
    const r = await run(o.claude, reviewerArgs(o.prompt, o), { cwd: dir, maxBuffer: MAX_OUTPUT });
    const log = reviewLogPath(o.commonDir, o.slug, o.phase, o.round);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, r.stdout);
    // Read back as a session's log is: line by line, bounded, only what may be a result event.
    const { last } = await lastResult(log, 0);
    const costUsd = last?.total_cost_usd;
    const base = { tree: o.tree, at: o.now().toISOString(), ...(costUsd !== undefined && { costUsd }) };
    if (r.spawnError) return { ...base, problem: `claude could not start: ${r.spawnError.message}` };
    if (last?.subtype !== "success" || last.is_error) return { ...base, problem: `the review session ended without an answer (exit ${r.exitCode}; its log: ${log})` };
    const parsed = parseVerdict(last.result ?? "");
    return "verdict" in parsed ? { ...base, verdict: parsed.verdict } : { ...base, problem: `${parsed.problem} (its log: ${log})` };
  } finally {
    await discardVerifyTree(o.mainRoot, o.commonDir, dir);
  }
}

const FindingSchema = z.object({ file: z.string(), line: z.optional(z.number()), message: z.string() });
const ReviewRecordSchema = z.object({
  rounds: z.array(
    z.object({
      tree: z.string(),
      at: z.string(),
      verdict: z.optional(
        z.union([z.object({ verdict: z.literal("approve"), summary: z.string() }), z.object({ verdict: z.literal("changes"), summary: z.string(), findings: z.array(FindingSchema) })]),
      ),
      problem: z.optional(z.string()),
      costUsd: z.optional(z.number()),
    }),
  ),
});

/** A phase's recorded rounds (none when there is no record), checked against their shape. */
export async function readRounds(commonDir: string, slug: string, phase: number): Promise<ReviewRound[]> {
  const path = reviewRecordPath(commonDir, slug, phase);
  const fix = `remove ${quote(path)}: the phase is then reviewed again`;
  return ((await readJsonFile(path, ReviewRecordSchema, fix, MAX_BYTES.reviewRecord))?.rounds ?? []) as ReviewRound[];
}

export async function recordRound(commonDir: string, slug: string, phase: number, round: ReviewRound): Promise<ReviewRound[]> {
  const rounds = [...(await readRounds(commonDir, slug, phase)).filter((r) => r.tree !== round.tree), round];
  const path = reviewRecordPath(commonDir, slug, phase);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify({ rounds }, null, 2) + "\n");
  return rounds;
}
