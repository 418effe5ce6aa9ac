/**
 * The part of a failed command's output that says why it failed, for a hand-back to a session or a
 * report to the user. The tail is often the wrong part: `npm test --workspaces` goes on after a
 * failing workspace, so its last lines are a passing package's. In order of preference: the
 * sections of the workspaces npm names as failed, else the first error line with the lines around
 * it (and the last lines, where a summary usually stands), else the tail. Bounded. Pure.
 */
interface FailureExcerpt {
  text: string;
  /** What failed, when the output says: `workspace b@1.0.0`. */
  where?: string;
}

const MAX_LINE = 400;
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
/** npm's header before a workspace's script: `> b@1.0.0 test`. */
const NPM_HEADER = /^> (\S+@\S+) \S+/;
/** npm 7+ names the failed workspace in its error block: `npm error workspace b@1.0.0` (`npm ERR!` before npm 10). */
const NPM_FAILED_WORKSPACE = /^npm (?:error|ERR!) workspace (\S+)\s*$/;
const NPM_ERROR = /^npm (?:error|ERR!) /;
const ERROR = /\w*errors?\b|\bERR!|\bfail(?:ed|ure|ing|s)?\b|✗|✖|×|\bpanic(?:ked)?\b|\bTraceback\b|\bexception\b/i;
const NOT_AN_ERROR = /\b(?:0|no) (?:errors?|failures?|failed|failing)\b/i;

export function failureExcerpt(output: string, maxLines = 30): FailureExcerpt {
  const lines = output
    .replace(ANSI, "")
    .split(/\r?\n/)
    .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l.trimEnd()));
  return npmWorkspaces(lines, maxLines) ?? { text: firstError(lines, maxLines) };
}

function npmWorkspaces(lines: string[], maxLines: number): FailureExcerpt | undefined {
  const failed = [...new Set(lines.map((l) => NPM_FAILED_WORKSPACE.exec(l)?.[1]).filter((w): w is string => w !== undefined))];
  if (failed.length === 0) return undefined;
  const headers = lines.flatMap((l, i) => (NPM_HEADER.test(l) ? [i] : []));
  const sections = failed.flatMap((workspace) => {
    const start = headers.find((i) => NPM_HEADER.exec(lines[i]!)?.[1] === workspace);
    if (start === undefined) return [];
    const end = headers.find((i) => i > start) ?? lines.length;
    // npm's own error block repeats the command: keep the script's output and the exit code.
    return [lines.slice(start, end).filter((l) => !NPM_ERROR.test(l) || /^npm (?:error|ERR!) code /.test(l))];
  });
  if (sections.length === 0) return undefined;
  const per = Math.max(5, Math.floor(maxLines / sections.length));
  return { text: sections.map((s) => firstError(s, per)).join("\n…\n"), where: `workspace ${failed.join(", ")}` };
}

/** The first error line with a little before it, and the last lines when they fall outside. */
function firstError(all: string[], maxLines: number): string {
  const lines = collapseBlank(all);
  const tail = Math.min(5, Math.floor(maxLines / 3));
  const i = lines.findIndex((l) => ERROR.test(l) && !NOT_AN_ERROR.test(l));
  if (i === -1 || lines.length <= maxLines) return lines.slice(-maxLines).join("\n");
  const from = Math.max(0, i - 3);
  const to = from + maxLines - tail - 1;
  if (to >= lines.length - tail) return lines.slice(from, from + maxLines).join("\n");
  return [...lines.slice(from, to), "…", ...lines.slice(-tail)].join("\n");
}

/** Without leading and trailing blank lines, and runs of blank lines as one. */
function collapseBlank(lines: string[]): string[] {
  const out = lines.filter((l, i) => l.trim() !== "" || (i > 0 && lines[i - 1]!.trim() !== ""));
  while (out.length && out[0]!.trim() === "") out.shift();
  while (out.length && out[out.length - 1]!.trim() === "") out.pop();
  return out;
}
