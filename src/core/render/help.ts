import type { CommandSpec } from "../command-spec.js";
import { ExitCode } from "../errors.js";

// The general usage and each command's `--help`, written from the commands' specs.

const EXIT_MEANINGS: Record<ExitCode, string> = {
  0: "done",
  1: "internal error",
  2: "invalid plan or usage",
  3: "unfit environment",
  4: "refused because of the repository's state (nothing was changed)",
  5: "the merged result fails verification (nothing was published)",
};

const PREFIX = "claude-parallel ";
const WIDTH = 92;

/** `claude-parallel` alone, `--help`, `help`: every listed command's synopsis and summary, in the order given. */
export function usage(specs: CommandSpec[]): string {
  const lines = ["claude-parallel: plan parallel Claude Code sessions in git worktrees", "", "Usage:"];
  for (const spec of specs) {
    if (spec.unlisted) continue;
    if (spec.inline) {
      lines.push(`  ${PREFIX}${spec.name.padEnd(13)}${spec.summary.join(" ")}`);
      continue;
    }
    lines.push(...synopsisLines(spec, "  "));
    lines.push(...spec.summary.map((l) => `      ${l}`));
  }
  const exits = Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `${code} ${meaning}`);
  // Narrower than a command's help, so that no code is parted from its meaning.
  lines.push("", ...wrap(`Exit codes: ${exits.join(", ")}.`, 84));
  return lines.join("\n") + "\n";
}

export function synopsisLines(spec: CommandSpec, indent: string): string[] {
  const head = `${indent}${PREFIX}${spec.name}`;
  if (spec.synopsis.length === 0) return [head];
  const pad = " ".repeat(head.length + 1);
  return [`${head} ${spec.synopsis[0]}`, ...spec.synopsis.slice(1).map((l) => pad + l)];
}

/** The options `--help` lists: the command's own, then `--help` itself. */
export function helpOptions(spec: CommandSpec): Array<{ flag: string; text: string }> {
  return [...spec.options.map((o) => ({ flag: `--${o.name}${o.value ? ` ${o.value}` : ""}`, text: o.text })), { flag: "--help, -h", text: "Print this help." }];
}

/** The sentence about the exit codes a command can end with (1, a bug, always possible, is said apart). */
export function exitsSentence(spec: CommandSpec): string {
  const exits = spec.exits.filter((c) => c !== ExitCode.internal).map((c) => `${c} ${EXIT_MEANINGS[c]}`);
  return `Exit codes: ${exits.join(", ")}; 1 is an internal error (a bug in claude-parallel).`;
}

/** `claude-parallel <command> --help`: its synopsis, what it does, its options and its exit codes. */
export function commandHelp(spec: CommandSpec): string {
  const out = [...wrap(`${PREFIX}${spec.name}: ${spec.summary.join(" ")}`, WIDTH), "", ...synopsisLines(spec, "Usage: ")];
  if (spec.aliases?.length) out.push(`Also spelled: ${spec.aliases.map((a) => `${PREFIX}${a}`).join(", ")}`);
  for (const paragraph of spec.details) out.push("", ...wrap(paragraph, WIDTH));
  const options = helpOptions(spec);
  const width = Math.max(...options.map((o) => o.flag.length)) + 2;
  out.push("", "Options:");
  for (const o of options) {
    const [first, ...rest] = wrap(o.text, WIDTH - 2 - width);
    out.push(`  ${o.flag.padEnd(width)}${first}`, ...rest.map((l) => `  ${" ".repeat(width)}${l}`));
  }
  out.push("", ...wrap(exitsSentence(spec), WIDTH));
  return out.join("\n") + "\n";
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
