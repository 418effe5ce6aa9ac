import { randomBytes } from "node:crypto";

/**
 * Step outputs in the format of GitHub's `$GITHUB_OUTPUT` file. A value with a newline is written
 * between delimiters; the delimiter is random and checked not to occur in the value, so no text
 * (a plan's prompt) can end it early and set another output.
 */
export function githubOutputs(values: Record<string, string>, random: () => string = () => randomBytes(12).toString("hex")): string {
  let text = "";
  for (const [name, value] of Object.entries(values)) {
    if (!value.includes("\n") && !value.includes("\r")) {
      text += `${name}=${value}\n`;
      continue;
    }
    let delimiter = `CLAUDE_PARALLEL_${random()}`;
    while (value.includes(delimiter)) delimiter = `CLAUDE_PARALLEL_${random()}`;
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  return text;
}
