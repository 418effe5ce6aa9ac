import { routeFindings, type ReviewedTask, type Routed } from "./route.js";
import type { Verdict } from "./verdict.js";

/** The plan's `review:` (src/plan/schema.ts), with its defaults applied. */
export interface ReviewSettings {
  /** The phases reviewed (1-based); absent: every phase. */
  phases?: readonly number[];
  /** How many verdicts asking for changes a phase gets before the user decides. */
  rounds: number;
  instructions?: string;
}

/** One review of a phase's merged result, as recorded in the feature's state. */
export interface ReviewRound {
  /** The merged result's tree: the same tree is never reviewed twice. */
  tree: string;
  verdict?: Verdict;
  /** Why there is no verdict (the reviewer failed, or answered without one). */
  problem?: string;
  costUsd?: number;
  at: string;
}

export interface ReviewFacts {
  settings?: ReviewSettings;
  phase: number;
  /** The tree of the merged result that passed verify. */
  tree: string;
  /** The phase's earlier rounds, oldest first. */
  rounds: readonly ReviewRound[];
  /** The user said to publish without a review this time (`--no-review`). */
  skip: boolean;
  tasks: readonly ReviewedTask[];
}

export type ReviewDecision =
  | { kind: "not-reviewed"; reason: string }
  /** Ask the reviewer about `tree`: this is round `round` (1-based). */
  | { kind: "review"; round: number }
  | { kind: "approved"; round: number; summary: string }
  /** Hand the findings back to the tasks' sessions; the phase is merged and reviewed again after. */
  | { kind: "hand-back"; round: number; summary: string; routed: Routed }
  /** The user decides: the rounds are used up, some finding belongs to no task, or the reviewer gave no verdict. */
  | { kind: "ask-user"; round: number; why: string; summary: string; routed?: Routed };

/** What the gate does with a phase whose merged result passed verify. Pure. */
export function decideReview(f: ReviewFacts): ReviewDecision {
  if (!f.settings) return { kind: "not-reviewed", reason: "the plan asks for no review" };
  if (f.settings.phases && !f.settings.phases.includes(f.phase)) return { kind: "not-reviewed", reason: `the plan's review leaves phase ${f.phase} out` };
  if (f.skip) return { kind: "not-reviewed", reason: "--no-review" };
  const index = f.rounds.findIndex((r) => r.tree === f.tree);
  if (index < 0) return { kind: "review", round: f.rounds.length + 1 };
  const round = index + 1;
  const done = f.rounds[index]!;
  if (!done.verdict) return { kind: "ask-user", round, why: `the reviewer gave no verdict: ${done.problem ?? "no answer"}`, summary: "" };
  if (done.verdict.verdict === "approve") return { kind: "approved", round, summary: done.verdict.summary };
  const routed = routeFindings(done.verdict.findings, f.tasks);
  const summary = done.verdict.summary;
  if (routed.unrouted.length) return { kind: "ask-user", round, why: `${routed.unrouted.length} finding(s) concern files no task of phase ${f.phase} changed or owns`, summary, routed };
  const asked = f.rounds.slice(0, round).filter((r) => r.verdict?.verdict === "changes").length;
  if (asked > f.settings.rounds) return { kind: "ask-user", round, why: `the reviewer still asks for changes after ${f.settings.rounds} round(s) of fixes (review.rounds)`, summary, routed };
  return { kind: "hand-back", round, summary, routed };
}
