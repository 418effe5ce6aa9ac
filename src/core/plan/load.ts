import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from "yaml";
import type * as z from "zod/mini";
import { InputError, type Problem } from "../errors.js";
import { didYouMean } from "../text/suggest.js";
import { MAX_PLAN_BYTES, planTooLarge } from "./size-limit.js";
import { LIMITS, MERGE_KEYS, PLAN_KEYS, TASK_KEYS, splitFix, validatePlan, type Plan } from "./schema.js";

const MAX_ALIAS_COUNT = 100;

/** Where each part of the plan was written, so later checks can point at a line. */
export interface PlanSource {
  file: string;
  /** `file:line:col` of the node at `path`, or of its nearest existing ancestor. */
  locate(path: ReadonlyArray<PropertyKey>): string;
}

export interface LoadedPlan {
  plan: Plan;
  source: PlanSource;
  /** For a plan read without source positions (src/core/plan/parse.ts): the same plan, read with them. */
  withPositions?: () => Promise<LoadedPlan>;
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "top level";
}

/** Parses and validates plan text with `yaml`. Throws InputError listing every problem found, each at its `file:line:col`. */
export function parsePlan(text: string, file: string): LoadedPlan {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PLAN_BYTES) throw planTooLarge(bytes, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };

  const syntax = [...doc.errors, ...doc.warnings].map(
    (e): Problem => ({
      where: at(e.pos[0]),
      message: `YAML ${e.code === "DUPLICATE_KEY" ? "duplicate key" : "syntax error"}: ${firstLine(e.message)}`,
      fix: e.code === "DUPLICATE_KEY" ? "keep one of the two keys" : "fix the YAML at that line (indentation, quotes, colons)",
    }),
  );
  if (syntax.length) throw new InputError(syntax);

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new InputError({ where: file, message: "the plan is empty", fix: "write `version: 1`, `feature: ...` and `tasks:` (run `claude-parallel schema` for the format)" });
  }
  if (!isMap(doc.contents)) {
    throw new InputError({
      where: at(doc.contents.range?.[0]),
      message: "the plan must be a mapping of keys to values at the top level",
      fix: "start the file with `version: 1` and `feature: ...` lines",
    });
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new InputError({
      where: file,
      message: `the plan uses YAML aliases too heavily (${firstLine((error as Error).message)})`,
      fix: "write the values out instead of using `&anchor`/`*alias`",
    });
  }

  const locate = (path: ReadonlyArray<PropertyKey>) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node && typeof node === "object" && "range" in node && node.range) return at(node.range[0]);
    }
    return file;
  };
  const source: PlanSource = { file, locate };

  const result = validatePlan(data);
  if (!result.success) {
    throw new InputError(result.error.issues.map((issue) => describeIssue(issue, data, doc, source, at)));
  }
  return { plan: result.data, source };
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, doc: Document, source: PlanSource, at: (offset: number | undefined) => string): Problem {
  if (issue.code === "invalid_union") {
    // A value of one alternative's type that fails that alternative's check (a notify target's URL): its own words.
    const matched = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.code !== "invalid_type" && i.code !== "unrecognized_keys"));
    if (matched) return describeIssue({ ...matched[0]!, path: [...issue.path, ...matched[0]!.path] } as z.core.$ZodIssue, data, doc, source, at);
  }
  const path = issue.path;
  const field = fieldPath(path);
  if (issue.code === "unrecognized_keys") {
    const known = path[path.length - 1] === "merge" ? MERGE_KEYS : path.length === 0 ? PLAN_KEYS : TASK_KEYS;
    const key = issue.keys[0]!;
    const keyNode = findKeyNode(doc, path, key);
    const more =
      issue.keys.length > 1
        ? ` (and ${issue.keys
            .slice(1)
            .map((k) => `\`${k}\``)
            .join(", ")})`
        : "";
    return {
      where: `${keyNode === undefined ? source.locate(path) : at(keyNode)} (${field})`,
      message: `unknown key \`${key}\`${didYouMean(key, known)}${more}`,
      fix: `use only these keys here: ${known.join(", ")}`,
    };
  }
  const value = valueAt(data, path);
  if (value === undefined && path.length > 0 && (issue.code === "invalid_type" || issue.code === "invalid_value")) {
    const name = String(path[path.length - 1]);
    return {
      where: `${source.locate(path)} (${field})`,
      message: `missing required key \`${name}\``,
      fix: name === "version" ? "add `version: 1`" : `add \`${name}: ...\``,
    };
  }
  const key = String(path[path.length - 1] ?? "");
  if (issue.code === "invalid_type") {
    const expected = issue.expected;
    const nonFinite = typeof value === "number" && !Number.isFinite(value);
    return {
      where: `${source.locate(path)} (${field})`,
      message: `expected ${nonFinite ? "a finite number" : article(expected)}, found ${describeValue(value)}`,
      fix: typeFix(expected, key),
    };
  }
  if (issue.code === "invalid_value" && field === "version") {
    return { where: `${source.locate(path)} (${field})`, message: `unsupported plan version ${JSON.stringify(value)}`, fix: "write `version: 1`" };
  }
  const { message, fix } = splitFix(issue.message);
  return { where: `${source.locate(path)} (${field})`, message, fix: fix ?? "see `claude-parallel schema` for what this key takes" };
}

/** How to write a value of the expected type at `key`. */
function typeFix(expected: string, key: string): string {
  if (key === "estimate") return `write the task's relative size as a number greater than 0 and at most ${LIMITS.estimate}, like \`2\``;
  if (key === "maxParallel") return "write a whole number of sessions from 1 to 64, like `4`";
  if (expected === "array") return `write a list, like \`${key}: [a, b]\``;
  if (expected === "object")
    return key === "" || /^\d+$/.test(key) ? "write each task as a mapping: `- id: ...` with `title: ...` on the next line" : `write \`${key}:\` as a mapping of keys to values`;
  if (expected === "string") return "write text; put it in quotes when YAML would read it as a number, true/false or null";
  if (expected === "number") return `write a number after \`${key}:\``;
  return "see `claude-parallel schema` for what this key takes";
}

function findKeyNode(doc: Document, path: ReadonlyArray<PropertyKey>, key: string): number | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
  if (!isMap(parent)) return undefined;
  for (const pair of parent.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key) return pair.key.range?.[0];
  }
  return undefined;
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = data;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the text ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  if (typeof value === "number" && Number.isNaN(value)) return "not a number (.nan)";
  if (typeof value === "number" && !Number.isFinite(value)) return `${value > 0 ? "" : "minus "}infinity (${value > 0 ? "" : "-"}.inf)`;
  return `${typeof value} ${String(value)}`;
}

function article(type: string): string {
  const names: Record<string, string> = { array: "a list", object: "a mapping", string: "text", number: "a number", boolean: "true or false" };
  return names[type] ?? type;
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}
