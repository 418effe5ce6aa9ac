import type { ConflictReport, ConflictSource, SideChange } from "./conflict-report.js";
import { oneLine } from "./markdown-text.js";
import { quote } from "../text/shell.js";

/**
 * A conflict in words, the same for `sync`, `status` and the session `run` hands it to: what
 * conflicts, where each side's version of each file came from, and the commands that change the
 * outcome (or what to decide where none can). `path` shows a file name (plain, or as Markdown code).
 */
export interface ConflictText {
  /** "b and a both change shared.txt" */
  summary: string;
  /** Per file: "shared.txt: changed by b; changed by a". */
  files: string[];
  /** The merges to run in the task's worktree, in order; empty when no merge can help. */
  commands: string[];
  /** What to decide, when no merge can help. */
  decide?: string;
  /** Why the commands merge branches no file names (the ones that carry the other side's version are in the task's already). */
  note?: string;
}

const and = (items: readonly string[]) => (items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`);

/** A commit's subject, quoted and cut short: whoever wrote it, it is only a name here (a session reads it too). */
const SUBJECT_MAX = 60;
const subject = (text: string) => {
  const line = oneLine(text).replace(/"/g, "'");
  return line.length > SUBJECT_MAX ? `${line.slice(0, SUBJECT_MAX - 3)}...` : line;
};

function who(source: ConflictSource): string {
  switch (source.kind) {
    case "task":
      return and(source.tasks);
    case "merged":
      return source.tasks.length ? `this sync's merge of ${and(source.tasks)}` : "an earlier merge of this sync";
    case "start":
      return `the phase's start (${source.commit.slice(0, 12)})`;
    case "integration":
      return source.tasks.length ? `the integration branch (${and(source.tasks)}, merged there since)` : "the integration branch";
    case "shared":
      return `${source.commit.slice(0, 12)} ("${subject(source.subject)}"), an outside commit both sides merged`;
    case "self":
      return source.task;
  }
}

const VERB: Record<SideChange["change"], string> = { added: "added", deleted: "deleted", changed: "changed", kept: "kept as it was", absent: "not there" };

function side(change: SideChange): string {
  const via = change.via?.length ? `, as ${and(change.via)} ${change.via.length === 1 ? "has" : "have"} it` : "";
  return change.source ? `${VERB[change.change]} by ${who(change.source)}${via}` : VERB[change.change];
}

/** `git merge` of `branch` with ort's `-X` options, quoted. */
export const mergeCommand = (branch: string, options: readonly string[]): string => ["git merge", ...options.map((o) => `-X ${quote(o)}`), quote(branch)].join(" ");

export function conflictText(c: ConflictReport, path: (p: string) => string = (p) => p): ConflictText {
  const files = c.files.map(path).join(", ");
  const fix = c.fix;
  const commands = fix.kind === "merge" ? fix.branches.map((b) => mergeCommand(b, fix.options)) : [];
  return {
    summary: `${and([c.task, ...(c.with.length ? c.with : ["an earlier merge"])])} both change ${files}`,
    files: c.paths.map((p) => `${path(p.path)}: ${side(p.theirs)}; ${side(p.ours)}`),
    commands,
    ...(fix.kind === "merge" && fix.held.length > 0 && { note: `${c.task}'s branch already holds ${and(fix.held)}; the branches to merge hold other versions of ${files}` }),
    ...(fix.kind === "decide" && {
      decide: `no merge can change this: ${c.task}'s branch already holds every branch on the other side. Decide which version of ${files} the feature keeps and make ${c.task}'s branch hold it (the other side's: check it out from where it came from, named above)`,
    }),
  };
}

/** The fix as one sentence: `where` ("in b's worktree"), the commands, then `then` (", commit, and sync again"). */
export function fixSentence(t: Pick<ConflictText, "commands" | "decide" | "note">, where: string, then: string, code: (command: string) => string = (command) => `\`${command}\``): string {
  if (!t.commands.length) return `${t.decide}${then}`;
  const run = t.commands.length === 1 ? `run ${code(t.commands[0]!)}` : `run ${t.commands.map(code).join(", then ")}, one at a time`;
  return `${where}, ${run}${t.note ? ` (${t.note})` : ""}, resolve keeping both sides' intent${then}`;
}
