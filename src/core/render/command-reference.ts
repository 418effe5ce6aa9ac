import type { CommandSpec } from "../command-spec.js";
import { exitsSentence, helpOptions, synopsisLines, usage } from "./help.js";
import { code, fence } from "./markdown-text.js";

/**
 * docs/commands.md: every command's synopsis, help, options and exit codes, in the usage's order,
 * from the same specs as `--help` (`npm run docs` writes it; a test fails when it is stale).
 */
export function commandReference(specs: CommandSpec[]): string {
  const out = [
    "# Commands",
    "",
    "<!-- Written by `npm run docs` from the commands' specs (src/commands/*.ts); edit those, not this file. -->",
    "",
    `Every command prints its own part of this page with ${code("claude-parallel <command> --help")}. The general usage (${code("claude-parallel --help")}):`,
    "",
    fence("", usage(specs)),
    "",
    ...specs.map((spec) => `- [${code(spec.name)}](#${anchor(spec.name)})`),
  ];
  for (const spec of specs) out.push("", ...section(spec));
  return out.join("\n") + "\n";
}

function section(spec: CommandSpec): string[] {
  const out = [`## ${spec.name}`, "", prose(spec.summary.join(" ")), "", fence("", synopsisLines(spec, "").join("\n"))];
  if (spec.aliases?.length) out.push("", `Also spelled: ${spec.aliases.map((a) => code(`claude-parallel ${a}`)).join(", ")}.`);
  for (const paragraph of spec.details) out.push("", prose(paragraph));
  out.push("", "Options:", "", ...helpOptions(spec).map((o) => `- ${code(o.flag)}: ${prose(o.text)}`));
  out.push("", prose(exitsSentence(spec)));
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation but `-` dropped. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");
}

/** Help text as Markdown: its code spans kept, and outside them what Markdown would act on (`<slug>`, `*`) escaped. */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[\\*_[\]<>]/g, "\\$&")))
    .join("");
}
