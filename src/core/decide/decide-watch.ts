import { reachedText, type FeatureSpend, type Reached } from "../budget.js";
import { covers, ownedPattern } from "../plan/owns.js";
import { quote } from "../text/shell.js";
import { failureExcerpt } from "../text/failure-excerpt.js";
import { repositoryPath } from "../text/repository-path.js";

/**
 * `watch`'s decider: what the pull request's checks and review comments ask for, and whom each
 * goes to. Pure: the pull request as gh reported it, the plan's owned paths and what was handed
 * back before all arrive in the facts.
 */

/** One check of the pull request's head commit (`gh pr checks --json`). */
export interface PrCheck {
  name: string;
  /** gh's own grouping of the check's state. */
  bucket: "pass" | "fail" | "pending" | "skipping" | "cancel";
  /** The failing steps' log (GitHub Actions), else the check's description; bounded by the gather. */
  log?: string;
}

/** One review comment on a line of a file (`gh api repos/{owner}/{repo}/pulls/<n>/comments`). */
export interface PrComment {
  id: number;
  path: string;
  line?: number;
  body: string;
  author: string;
  /** The author owns, is a member of, or collaborates on the repository (GitHub's author_association). */
  collaborator: boolean;
}

export interface PrFacts {
  number: number;
  url: string;
  state: "OPEN" | "CLOSED" | "MERGED";
  headOid: string;
  /** `APPROVED`, `CHANGES_REQUESTED`, `REVIEW_REQUIRED`, or empty when the repository asks for no review. */
  reviewDecision: string;
  checks: PrCheck[];
  comments: PrComment[];
}

export interface WatchFacts {
  pr: PrFacts;
  /** The plan's tasks in plan order, with their owned paths. */
  tasks: ReadonlyArray<{ id: string; owns: readonly string[] }>;
  /** The files of the integration branch's tree: the ones a failing log may name. */
  files: ReadonlySet<string>;
  /** Every item handed out before (to a task or to the user), by key. */
  handed: ReadonlySet<string>;
  /** How the integration branch stands to the pull request's head. */
  relation: "same" | "ahead" | "behind" | "diverged";
  integrationTip: string;
  /** Hand-back rounds done, and the most allowed. */
  rounds: number;
  maxRounds: number;
  /** Tasks at their own budget, with why: no session of theirs is handed anything. */
  atBudget?: ReadonlyMap<string, string>;
  /** The feature's spend against its budget (the one accounting): once it is reached, no session is handed anything. */
  featureBudget?: FeatureSpend;
}

export type WatchItem =
  | { key: string; kind: "check"; name: string; excerpt: string; where?: string; files: string[] }
  | { key: string; kind: "comment"; id: number; path: string; line?: number; body: string; author: string };

export type WatchAction =
  /** Resume the task's session with these items, then merge its branch into the integration branch. */
  | { kind: "hand-back"; task: string; items: WatchItem[] }
  /** Nothing a session can be given (no owner, or an author we do not take orders from): the user's. */
  | { kind: "to-user"; item: WatchItem; reason: string }
  /** The integration branch holds fixes the pull request does not have yet. */
  | { kind: "push"; from: string; to: string }
  | { kind: "wait"; reason: string }
  /** Green and approved, or merged: nothing left to watch. */
  | { kind: "done"; reason: string }
  /** The watch cannot go on by itself (exit 4). */
  | { kind: "stop"; reason: string; fix: string }
  /** The feature's budget is reached, and feedback waits for these tasks' sessions: nothing more is spent until the user approves more (exit 4). */
  | { kind: "budget"; reached: Reached; tasks: string[] };

const ERROR_LINE = /\b(?:errors?|fail(?:ed|ure|ing|s)?|not ok|panic(?:ked)?|exception|assert(?:ion)?|expected)\b|✗|✖|×/i;
const NOT_AN_ERROR = /\b(?:0|no) (?:errors?|failures?|failed|failing)\b/i;

/**
 * The most items one session is handed in a round; the rest wait for the next. Its prompt is one
 * command-line argument of claude, which Linux caps at 128 KiB: each item is quoted in at most
 * 6,000 characters of up to 3 bytes (src/core/render/feedback-prompt.ts), so 5 stay well below.
 */
export const MAX_ITEMS_PER_HAND_BACK = 5;

export const checkKey = (name: string, head: string) => `check:${head}:${name}`;
export const commentKey = (id: number) => `comment:${id}`;

export function decideWatch(f: WatchFacts): WatchAction[] {
  const { pr } = f;
  if (pr.state === "MERGED") return [{ kind: "done", reason: `the pull request #${pr.number} is merged` }];
  if (pr.state === "CLOSED") return [{ kind: "stop", reason: `the pull request #${pr.number} is closed`, fix: "reopen it and watch again, or clean the feature up" }];
  if (f.relation === "ahead") return [{ kind: "push", from: pr.headOid, to: f.integrationTip }];
  if (f.relation !== "same") {
    return [
      {
        kind: "stop",
        reason: `the pull request's branch has commits the integration branch does not (${pr.headOid.slice(0, 12)}): someone pushed to it`,
        fix: "fetch the pull request's branch and merge it into the integration branch (or reset the remote's branch), then watch again",
      },
    ];
  }

  const items: WatchItem[] = [];
  for (const c of pr.checks) {
    if (c.bucket !== "fail") continue;
    const log = c.log ?? "";
    const excerpt = failureExcerpt(log);
    // The files its error lines name; else any it names.
    const named = filesNamed(
      log
        .split("\n")
        .filter((l) => ERROR_LINE.test(l) && !NOT_AN_ERROR.test(l))
        .join("\n"),
      f.files,
    );
    items.push({
      key: checkKey(c.name, pr.headOid),
      kind: "check",
      name: c.name,
      excerpt: excerpt.text,
      ...(excerpt.where && { where: excerpt.where }),
      files: named.length ? named : filesNamed(log, f.files),
    });
  }
  for (const c of pr.comments) {
    items.push({ key: commentKey(c.id), kind: "comment", id: c.id, path: c.path, ...(c.line !== undefined && { line: c.line }), body: c.body, author: c.author });
  }
  const fresh = items.filter((i) => !f.handed.has(i.key));

  const actions: WatchAction[] = [];
  const byTask = new Map<string, WatchItem[]>();
  // At the feature's budget the items stay with their owners, not handed out: once more is approved, they go to them.
  const reached = f.featureBudget?.reached;
  for (const item of fresh) {
    const routed = reached ? owners(item, f) : route(item, f);
    if ("reason" in routed) actions.push({ kind: "to-user", item, reason: routed.reason });
    else for (const task of routed.tasks) byTask.set(task, [...(byTask.get(task) ?? []), item]);
  }
  if (byTask.size && f.rounds >= f.maxRounds) {
    const pending = [...new Set([...byTask.values()].flat())];
    return [
      ...actions,
      {
        kind: "stop",
        reason: `${pending.length} more ${pending.length === 1 ? "item" : "items"} of feedback after ${f.rounds} ${f.rounds === 1 ? "round" : "rounds"} of hand-backs (--rounds ${f.maxRounds})`,
        fix: "look at the pull request yourself, or watch again with a higher --rounds",
      },
    ];
  }
  const atLimit = budgetStop(f.featureBudget, [...byTask.keys()]);
  if (atLimit) return [...actions, atLimit];
  for (const task of f.tasks) {
    const given = byTask.get(task.id);
    if (given) actions.push({ kind: "hand-back", task: task.id, items: given.slice(0, MAX_ITEMS_PER_HAND_BACK) });
  }
  if (byTask.size) return actions;

  const failing = pr.checks.filter((c) => c.bucket === "fail" || c.bucket === "cancel");
  if (failing.length) {
    return [
      ...actions,
      {
        kind: "stop",
        reason: `${failing.map((c) => c.name).join(", ")} ${failing.length === 1 ? "fails" : "fail"} at ${pr.headOid.slice(0, 12)}, and no session has a fix to push`,
        fix: "fix it on the integration branch (or in a task's worktree, then sync), push, and watch again",
      },
    ];
  }
  if (pr.checks.some((c) => c.bucket === "pending")) return [...actions, { kind: "wait", reason: "checks are still running" }];
  if (pr.reviewDecision === "APPROVED" || pr.reviewDecision === "") return [...actions, { kind: "done", reason: `every check passes${pr.reviewDecision ? " and the pull request is approved" : ""}` }];
  return [...actions, { kind: "wait", reason: `every check passes; the review is ${pr.reviewDecision.toLowerCase().replace(/_/g, " ")}` }];
}

/** The watch stops before a session of `tasks` spends anything, when the feature's budget is reached (none to start: nothing to stop). Pure. */
export function budgetStop(feature: FeatureSpend | undefined, tasks: readonly string[]): Extract<WatchAction, { kind: "budget" }> | undefined {
  return feature?.reached && tasks.length ? { kind: "budget", reached: feature.reached, tasks: [...tasks] } : undefined;
}

/** What the watch says when it stops at the feature's budget: why, and how to give more and go on (`again`). Pure. */
export function budgetStopLines(a: Extract<WatchAction, { kind: "budget" }>, slug: string, again: string): string[] {
  return [
    `Stopped: ${reachedText(a.reached)}; the pull request's feedback for ${a.tasks.join(", ")} waits, and no session starts until you approve more.`,
    `  approve more: claude-parallel approve ${a.tasks[0]} ${quote(slug)} --add <USD> (raises the feature's budget), then: ${again}`,
  ];
}

/** Whom an item goes to: the tasks that own what it concerns and are within their budget, or the user, with why. */
function route(item: WatchItem, f: WatchFacts): { tasks: string[] } | { reason: string } {
  const routed = owners(item, f);
  if ("reason" in routed || !f.atBudget) return routed;
  const within = routed.tasks.filter((t) => !f.atBudget!.has(t));
  if (within.length) return { tasks: within };
  const t = routed.tasks[0]!;
  return { reason: `${t} owns it, but is at its budget (${f.atBudget.get(t)})` };
}

function owners(item: WatchItem, f: WatchFacts): { tasks: string[] } | { reason: string } {
  if (item.kind === "comment") {
    const comment = f.pr.comments.find((c) => c.id === item.id)!;
    if (!comment.collaborator) return { reason: `written by ${item.author}, who does not own, belong to or collaborate on the repository` };
    if (!repositoryPath(item.path)) return { reason: "it names no file of the repository" };
    const owner = lastOwner(item.path, f.tasks);
    return owner ? { tasks: [owner] } : { reason: `no task owns ${item.path}` };
  }
  const owners = [...new Set(item.files.map((p) => lastOwner(p, f.tasks)).filter((t): t is string => t !== undefined))];
  if (owners.length) return { tasks: f.tasks.map((t) => t.id).filter((id) => owners.includes(id)) };
  return { reason: item.files.length ? `no task owns the files its log names (${item.files.slice(0, 3).join(", ")})` : "its log names no file of the repository" };
}

/**
 * The task whose owned paths cover the file; of several (owned paths may overlap across phases),
 * the last in plan order, whose version of it the integration branch holds.
 */
export function lastOwner(path: string, tasks: WatchFacts["tasks"]): string | undefined {
  let owner: string | undefined;
  for (const t of tasks) if (t.owns.some((o) => covers(ownedPattern(o), path))) owner = t.id;
  return owner;
}

/**
 * The repository's files a log names, in the order it names them: each word of the log, without a
 * `:line:column` and surrounding punctuation, is looked up as it is and by each of its endings after
 * a `/` (a CI runner prints absolute paths: /home/runner/work/repo/repo/src/x.ts).
 */
export function filesNamed(log: string, files: ReadonlySet<string>, max = 20): string[] {
  const found: string[] = [];
  for (const raw of log.split(/[\s"'`()[\]{}<>,;=|]+/)) {
    const word = raw
      .replace(/^(?:\.\/)+/, "")
      .replace(/(?::\d+)+:?$/, "")
      .replace(/[.:]+$/, "");
    if (!word.includes(".") && !word.includes("/")) continue;
    for (let at = -1; ; at = word.indexOf("/", at + 1)) {
      const candidate = word.slice(at + 1);
      if (files.has(candidate)) {
        if (!found.includes(candidate)) found.push(candidate);
        break;
      }
      if (word.indexOf("/", at + 1) === -1) break;
    }
    if (found.length >= max) break;
  }
  return found;
}
