import { repositoryPath } from "../text/repository-path.js";

/**
 * The reviewer's answer: the last JSON object of its final message, checked field by field. The
 * reviewer read code the task sessions wrote, so its answer is data: bounded, every path a plain
 * relative path, never a command. Pure.
 */
export interface Finding {
  /** Relative to the repository's root, as the diff names it. */
  file: string;
  line?: number;
  message: string;
}

export type Verdict = { verdict: "approve"; summary: string } | { verdict: "changes"; summary: string; findings: Finding[] };

export const VERDICT_LIMITS = { findings: 50, message: 2000, summary: 2000 } as const;

/** What the reviewer must end its answer with (quoted in its prompt). */
export const VERDICT_FORMAT = [
  "End your answer with one JSON object in a ```json fenced block, nothing after it:",
  '- to approve: {"verdict": "approve", "summary": "<one paragraph>"}',
  '- to ask for changes: {"verdict": "changes", "summary": "<one paragraph>", "findings": [{"file": "<path relative to the repository root>", "line": <number, optional>, "message": "<what is wrong and what to change>"}]}',
  `At most ${VERDICT_LIMITS.findings} findings, each about one file the phase changed.`,
].join("\n");

export function parseVerdict(answer: string): { verdict: Verdict } | { problem: string } {
  const json = lastJsonObject(answer);
  if (json === undefined) return { problem: "its answer holds no JSON verdict" };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problem: "its verdict is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "its verdict is not a JSON object" };
  const v = value as Record<string, unknown>;
  const summary = typeof v.summary === "string" ? clip(v.summary, VERDICT_LIMITS.summary) : "";
  if (v.verdict === "approve") return { verdict: { verdict: "approve", summary } };
  if (v.verdict !== "changes") return { problem: 'its verdict is neither "approve" nor "changes"' };
  if (!Array.isArray(v.findings) || v.findings.length === 0) return { problem: "it asks for changes without findings" };
  if (v.findings.length > VERDICT_LIMITS.findings) return { problem: `it names more than ${VERDICT_LIMITS.findings} findings` };
  const findings: Finding[] = [];
  for (const [i, raw] of v.findings.entries()) {
    const finding = findingOf(raw);
    if (typeof finding === "string") return { problem: `finding ${i + 1} ${finding}` };
    findings.push(finding);
  }
  return { verdict: { verdict: "changes", summary, findings } };
}

function findingOf(raw: unknown): Finding | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "is not an object";
  const f = raw as Record<string, unknown>;
  if (typeof f.file !== "string" || !repositoryPath(f.file)) return "does not name a file by its path relative to the repository root";
  if (typeof f.message !== "string" || f.message.trim() === "") return "has no message";
  const line = typeof f.line === "number" && Number.isInteger(f.line) && f.line > 0 ? f.line : undefined;
  return { file: f.file, ...(line !== undefined && { line }), message: clip(f.message, VERDICT_LIMITS.message) };
}

/** The last ```json fenced block, else the last line that is a whole JSON object. */
function lastJsonObject(answer: string): string | undefined {
  const fences = [...answer.matchAll(/```json[ \t]*\r?\n([\s\S]*?)\r?\n[ \t]*```/g)];
  const fenced = fences[fences.length - 1]?.[1];
  if (fenced !== undefined) return fenced.trim();
  const lines = answer.split(/\r?\n/).map((l) => l.trim());
  return lines.reverse().find((l) => l.startsWith("{") && l.endsWith("}"));
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
