// What a plan's values must be, without zod: the plan's schema (src/core/plan/schema.ts) builds its
// checks and messages on these, and the fast check (src/core/plan/check.ts) applies them to a plan that
// needs no messages, so the two cannot drift apart on a rule.
import { OWNED_PATH_MAX } from "./owns.js";

/**
 * Sizes every later step can carry: titles go into merge commit subjects and Markdown headings,
 * prompts and commands into a single argv string (Linux allows 128 KiB per argument, and the
 * brief wraps the prompt in more text), paths and branch names into file names (255 bytes per
 * component). docs/plan-file.md lists them.
 */
export const LIMITS = {
  /** Characters. */
  feature: 300,
  /** Characters, per task. */
  title: 300,
  /** UTF-8 bytes, per task: 32 KiB. */
  prompt: 32 * 1024,
  /** UTF-8 bytes, per command: 4 KiB. */
  verify: 4 * 1024,
  /** Characters. */
  worktreeRoot: 1024,
  /** UTF-8 bytes: a task branch adds `-<id>` (at most 33) and must stay under 255 bytes. */
  branch: 200,
  /** Characters, per owned path or contract. */
  ownedPath: OWNED_PATH_MAX,
  /** Largest estimate: sums over thousands of tasks stay exact and finite. */
  estimate: 1_000_000,
  /** A session's turns (`maxTurns`, claude-code-action's --max-turns). */
  maxTurns: 10_000,
  /** Dollars: a task's sessions (`budgetUsd`), or the whole feature's (`featureBudgetUsd`). */
  budgetUsd: 10_000,
  /** Where `run`'s notifications go (`notify`): at most this many targets. */
  notifyTargets: 16,
  /** Characters, per notification URL. */
  notifyUrl: 2048,
  /** Rounds of fixes a phase's review may ask for (`review.rounds`). */
  reviewRounds: 10,
  /** UTF-8 bytes: the reviewer's extra instructions (`review.instructions`). */
  reviewInstructions: 8 * 1024,
  /** The most phases `review.phases` may name. */
  reviewPhases: 1000,
} as const;

/** What an absent key becomes. */
export const DEFAULTS = { worktreeRoot: "..", maxParallel: 4, enforceOwns: "deny", estimate: 1, mergeStrategy: "ort", reviewRounds: 2 } as const;

export const ENFORCE_OWNS = ["deny", "ask", "off"] as const;
/** Whether the sessions we launch run their Bash commands in Claude Code's sandbox (docs/sandbox.md); absent: auto. */
export const SANDBOX_MODES = ["auto", "on", "off"] as const;
export const MAX_PARALLEL_MAX = 64;
export const AGENT_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** A branch written as a ref path (`refs/heads/main`, `heads/main`): git would read it as another ref. */
export const REF_PATH = /^(refs|heads|tags|remotes)\//;

/** The notify target that is the platform's own notifier (docs/notifications.md). */
export const NOTIFY_DESKTOP = "desktop";

/**
 * What is wrong with a notify target written as text (`desktop` or an http(s) URL), or undefined.
 * A URL must parse and name a host; it may carry a token (userinfo, path, query), so it is never
 * quoted back whole.
 */
export function notifyTextProblem(target: string): string | undefined {
  if (target === NOTIFY_DESKTOP) return undefined;
  if (!/^https?:\/\//i.test(target)) return "is neither `desktop` nor an http(s) URL";
  if (target.length > LIMITS.notifyUrl) return `is a URL of more than ${LIMITS.notifyUrl} characters`;
  if (/[\s\x00-\x1f\x7f]/.test(target)) return "is a URL with a space or a control character in it";
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return "is not a valid URL";
  }
  if (url.hostname === "") return "is a URL without a host";
  return undefined;
}

export const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");
export const hasNul = (s: string) => s.includes("\0");
export const isBlank = (s: string) => s.trim() === "";
/** A command spans several lines (surrounding blank lines do not count). */
export const isMultiLine = (s: string) => /[\r\n]/.test(s.trim());
export const hasLineBreak = (s: string) => /[\r\n]/.test(s);
export const fitsBytes = (s: string, max: number) => s.length <= max && utf8Bytes(s) <= max;

/**
 * What a plan's `merge` may ask of `git merge-tree --write-tree`, which merges with ort only:
 * `subtree` is ort shifting one side's tree to match the other (what `git merge -s subtree` is),
 * and the options are ort's `-X` options that merge-tree passes on (git 2.43 and newer).
 */
export const MERGE_STRATEGIES = ["ort", "subtree"] as const;
const MERGE_OPTION =
  /^(ours|theirs|ignore-space-change|ignore-all-space|ignore-space-at-eol|ignore-cr-at-eol|renormalize|no-renormalize|no-renames|find-renames|find-renames=\d{1,3}%?|diff-algorithm=(myers|minimal|patience|histogram)|subtree|subtree=.+)$/s;
const MERGE_OPTION_MAX = 1024;

/** What is wrong with a merge option, or undefined when merge-tree can take it. */
export function mergeOptionProblem(option: string): string | undefined {
  if (!MERGE_OPTION.test(option)) return "is not one of ort's options that `git merge-tree -X` takes";
  if (option.length > MERGE_OPTION_MAX) return `is longer than ${MERGE_OPTION_MAX} characters`;
  if (!option.startsWith("subtree=")) return undefined;
  const prefix = option.slice("subtree=".length);
  if (hasNul(prefix) || hasLineBreak(prefix)) return "names a subtree with a NUL character or a line break";
  if (prefix.startsWith("/") || prefix.split("/").some((part) => part === ".." || part === ".")) return "names a subtree outside the repository's root: write a folder relative to it, like `gitk-git`";
  return undefined;
}
