import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse, parseDocument, stringify } from "yaml";
import { InputError } from "../../src/core/errors.js";
import { EXAMPLE_PLAN } from "../../src/core/plan/example.js";
import { loadYamlFast } from "../../src/core/plan/fast-yaml.js";
import { parsePlan } from "../../src/core/plan/load.js";
import { buildPlan, parsePlanText } from "../../src/core/plan/parse.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { facts } from "../helpers/plans.js";

/** What `yaml` (the reader with positions) makes of the text: its data, or undefined on any error or warning. */
function slow(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true });
  return doc.errors.length || doc.warnings.length ? undefined : doc.toJS();
}

/** The fast reader reads nothing differently from `yaml`: it agrees, or declines. */
function agrees(text: string): void {
  const fast = loadYamlFast(text);
  if (fast === undefined) return;
  expect(fast).toEqual(slow(text));
}

describe("the fast plan reader (js-yaml) reads what `yaml` reads, or declines", () => {
  it("resolves plain scalars as YAML 1.2's core schema does, as `yaml` does", () => {
    const scalars = [
      "1_000",
      "0b101",
      "0o17",
      "0O17",
      "0x1F",
      "-0x1F",
      "+5",
      "-7",
      "007",
      ".5",
      "1.",
      "1e3",
      "-1.5E-3",
      ".inf",
      "-.Inf",
      "+.INF",
      ".NaN",
      "~",
      "null",
      "Null",
      "NULL",
      "",
      "true",
      "True",
      "TRUE",
      "tRUE",
      "yes",
      "on",
      "off",
      "y",
      "2024-01-01",
      "12:30:00",
      "1:20",
      "<<",
      "0.",
      "-.5e+2",
      "1e",
      "+.5",
      "0x",
      "0o8",
    ];
    for (const s of scalars) {
      const text = `a: ${s}\nb: [${s}]\n`;
      expect(loadYamlFast(text), s).toEqual(parse(text));
    }
  });

  it("declines anchors and aliases, whose expansion only `yaml` limits", () => {
    expect(loadYamlFast("a: &x [1, 2]\nb: *x\n")).toBeUndefined();
    expect(loadYamlFast("a: &x 1\nb: *x\n")).toBeUndefined();
    expect(loadYamlFast("title: Salt & pepper\n")).toEqual({ title: "Salt & pepper" });
  });

  it("declines duplicate keys, unknown tags, several documents and syntax errors", () => {
    for (const text of ["a: 1\na: 2\n", "a: !foo 1\n", "a: 1\n---\nb: 2\n", "a: 'open\n", "a:\n\t- 1\n", "a: !!binary aGk=\n"]) {
      expect(loadYamlFast(text), text).toBeUndefined();
    }
  });

  it("agrees with `yaml` on every malformed fixture and on the example plan", () => {
    const dir = join(REPO_ROOT, "test/fixtures/malformed");
    for (const file of readdirSync(dir)) agrees(readFileSync(join(dir, file), "utf8"));
    agrees(EXAMPLE_PLAN);
  });

  it("agrees with `yaml` on plans of awkward text written in every style `yaml` writes", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.string({
        unit: fc.constantFrom(
          "a",
          " ",
          "\n",
          "\t",
          "#",
          ":",
          "-",
          "'",
          '"',
          "\\",
          "&",
          "*",
          "!",
          "{",
          "}",
          "[",
          "]",
          ",",
          "?",
          "|",
          ">",
          "%",
          "@",
          "`",
          "0",
          "1",
          ".",
          "e",
          "x",
          "é",
          "\u0085",
          "\u2028",
          "\r",
        ),
        maxLength: 16,
      }),
      fc.constantFrom("true", "null", "~", "1_0", "0x1", "1e3", ".nan", "-", "- a", "a: b", "#x", "  lead", "trail  ", "multi\nline\n", "tab\there", "\ttab"),
    );
    const task = fc.record({ id: text, title: text, prompt: text, owns: fc.array(text, { maxLength: 3 }), estimate: fc.oneof(fc.integer(), fc.double({ noNaN: true })) });
    const plan = fc.record({ version: fc.constant(1), feature: text, verify: text, tasks: fc.array(task, { maxLength: 3 }) });
    const style = fc.constantFrom(
      {},
      { defaultStringType: "QUOTE_DOUBLE" as const },
      { defaultStringType: "QUOTE_SINGLE" as const },
      { defaultStringType: "BLOCK_LITERAL" as const },
      { defaultStringType: "BLOCK_FOLDED" as const },
      { collectionStyle: "flow" as const },
      { lineWidth: 20, minContentWidth: 5 },
      { indent: 4, indentSeq: false },
    );
    fc.assert(
      fc.property(plan, style, (value, options) => agrees(stringify(value, options))),
      { seed: 12, numRuns: 400 },
    );
  });
});

describe("parsePlanText: the fast path changes no outcome", () => {
  /** The plan, or the problems it is refused with, as the CLI would print them. */
  const outcome = async (read: () => Promise<Parameters<typeof buildPlan>[0]>) => {
    try {
      return await buildPlan(await read(), facts);
    } catch (error) {
      if (error instanceof InputError) return error.problems;
      throw error;
    }
  };

  it("refuses every malformed fixture with the same problems, at the same lines, as `yaml` alone", async () => {
    const dir = join(REPO_ROOT, "test/fixtures/malformed");
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), "utf8");
      const fast = await outcome(() => parsePlanText(text, file));
      expect(Array.isArray(fast), file).toBe(true);
      expect(fast, file).toEqual(await outcome(async () => parsePlan(text, file)));
    }
  });

  it("builds a valid plan exactly as `yaml` alone does", async () => {
    expect(await outcome(() => parsePlanText(EXAMPLE_PLAN, "plan.yaml"))).toEqual(await outcome(async () => parsePlan(EXAMPLE_PLAN, "plan.yaml")));
  });

  it("names the line of a problem found only while building (an unknown dependency)", async () => {
    const text = "version: 1\nfeature: Demo\ntasks:\n  - id: a\n    title: A\n    dependsOn: [b]\n";
    const problems = await outcome(() => parsePlanText(text, "plan.yaml"));
    expect(problems).toEqual([expect.objectContaining({ where: "plan.yaml:6:17 (tasks[0].dependsOn[0])" })]);
  });
});
