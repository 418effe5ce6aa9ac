import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { InputError } from "../../src/core/errors.js";
import { EXAMPLE_PLAN } from "../../src/core/plan/example.js";
import { CHECKED_MERGE_KEYS, CHECKED_NOTIFY_COMMAND_KEYS, CHECKED_REVIEW_KEYS, CHECKED_PLAN_KEYS, CHECKED_TASK_KEYS, checkPlan } from "../../src/core/plan/check.js";
import { parsePlan } from "../../src/core/plan/load.js";
import { parsePlanText } from "../../src/core/plan/parse.js";
import { LIMITS, MERGE_KEYS, PLAN_KEYS, TASK_KEYS, planJsonSchema, validatePlan } from "../../src/core/plan/schema.js";

/**
 * A value with everything that tells two results apart made visible: key order, keys present with
 * `undefined`, -0, NaN, and whether two lists are the same object.
 */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return { list: value.map(shape) };
  if (typeof value === "object" && value !== null) return { keys: Object.keys(value), entries: Object.entries(value).map(([k, v]) => [k, shape(v)]) };
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : Number.isNaN(value) ? "NaN" : value;
  return value === undefined ? "(undefined)" : value;
}

/** The fast check and the zod schema agree: both reject, or both accept with the same value (and fresh default lists). */
function agree(data: unknown): boolean {
  const zod = validatePlan(data);
  const fast = checkPlan(data);
  if (!zod.success) {
    expect(fast, JSON.stringify(zod.error.issues[0])).toBeUndefined();
    return false;
  }
  expect(fast).toBeDefined();
  expect(shape(fast)).toEqual(shape(zod.data));
  const tasks = (fast as { tasks: Array<{ owns: unknown }> }).tasks;
  if (tasks.length > 1) expect(tasks[0]!.owns).not.toBe(tasks[1]!.owns);
  return true;
}

// Boundaries read from the schema's own JSON Schema, so a limit changed in the schema only is tried here.
type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
  default?: unknown;
};
const JSON_SCHEMA = planJsonSchema() as JsonSchema;
const lengths = new Set<number>();
const numbers = new Set<number>();
const enums = new Set<unknown>();
(function collect(s: JsonSchema | undefined) {
  if (!s) return;
  if (s.maxLength !== undefined) lengths.add(s.maxLength);
  for (const n of [s.minimum, s.maximum, s.exclusiveMinimum]) if (n !== undefined) for (const d of [-1, -0.5, 0, 0.5, 1]) numbers.add(n + d);
  for (const e of s.enum ?? []) enums.add(e);
  for (const p of Object.values(s.properties ?? {})) collect(p);
  for (const a of s.anyOf ?? []) collect(a);
  collect(s.items);
})(JSON_SCHEMA);

const bounded = (unit: string, n: number) => unit.repeat(n);
const LONG = [...lengths].flatMap((n) => [bounded("a", n), bounded("a", n + 1), bounded("é", n), bounded("é", n + 1)]);
const BYTES = [LIMITS.prompt, LIMITS.verify, LIMITS.branch].flatMap((n) => [bounded("a", n), bounded("a", n + 1), bounded("é", n / 2), bounded("é", n / 2 + 1), `x${bounded("€", Math.floor(n / 3))}`]);
const TEXT = ["", " ", "\t", "a", "Add the login page", "x\0y", "one\ntwo", "one\rtwo", "  padded  ", "trailing\n", "\nleading", "é", "🙂", "\u202e", ...LONG, ...BYTES];
const IDS = ["a", "t1", "backend", "qa-e2e", "a-", "A", "1a", "-a", "a_b", "a b", "é", bounded("a", 32), bounded("a", 33)];
const AGENTS = ["designer", "Backend", "qa_e2e", "a-b", "1a", "_a", "a b", bounded("A", 32), bounded("A", 33)];
const SLUGS = ["user-auth", "a", "a1", "a--b", "-a", "a-", "A", "a_b", bounded("a", 48), bounded("a", 49)];
const BRANCHES = [
  "main",
  "feature/login",
  "release-1.2",
  "refs/heads/main",
  "heads/main",
  "tags/v1",
  "remotes/origin/x",
  "refs/x",
  "-x",
  "@",
  "HEAD",
  "/x",
  "x/",
  "x.",
  "a..b",
  "a@{b",
  "a//b",
  "a b",
  "a~b",
  "a^b",
  "a:b",
  "a?b",
  "a*b",
  "a[b",
  "a\\b",
  ".x",
  "x/.y",
  "x.lock",
  "x/y.lock",
  "é",
  bounded("é", 100),
  bounded("é", 101),
  bounded("a", 200),
  bounded("a", 201),
];
const PATHS = [
  "src/",
  "src/auth/**",
  "src/**/*.ts",
  "docs/api.md",
  ".",
  "./src",
  "a//b",
  "",
  " ",
  "/abs",
  "C:/x",
  "c:\\x",
  "../x",
  "a/../b",
  ".git",
  ".git/hooks",
  "a\\b",
  "a\\*b",
  "{a,b}/c",
  "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}",
  "x\ny",
  "x\0y",
  bounded("a", 1024),
  bounded("a", 1025),
];
const COMMANDS = ["npm test", "npm run build && npm test", "  npm test  ", "npm test\n", "one\ntwo", "", " ", "a\0b", bounded("a", 4096), bounded("a", 4097), bounded("é", 2048), bounded("é", 2049)];
const NUMBERS = [0, -0, 1, 2, 2.5, 4, 8, 64, 65, -1, 0.001, 1e6, 1e6 + 1, 1.5, 2 ** 53, NaN, Infinity, -Infinity, ...numbers];
const OTHER: unknown[] = [null, true, false, [], {}, ["a"], { a: 1 }, "1", 1];
const MERGE_OPTIONS = [
  "ours",
  "theirs",
  "subtree",
  "subtree=gitk-git",
  "subtree=a/b c",
  "find-renames",
  "find-renames=50%",
  "find-renames=1000",
  "diff-algorithm=patience",
  "diff-algorithm=x",
  "ignore-space-change",
  "renormalize",
  "subtree=",
  "subtree=/abs",
  "subtree=../x",
  "subtree=a/./b",
  "subtree=x\ny",
  "subtree=x\0y",
  "recursive",
  "-s",
  "",
  `subtree=${bounded("a", 1015)}`,
  `subtree=${bounded("a", 1016)}`,
];
const VALID_MERGES = [{}, { strategy: "subtree" }, { options: ["theirs"] }, { strategy: "ort", options: ["subtree=gitk-git", "ignore-all-space"] }];
const MERGES: unknown[] = [
  ...VALID_MERGES,
  { strategy: "recursive" },
  { strategy: "ours" },
  { strategy: 1 },
  { options: "theirs" },
  { options: [1] },
  { extra: 1 },
  ...MERGE_OPTIONS.map((o) => ({ options: [o] })),
  ...MERGE_OPTIONS,
];
const URL_MAX = `https://ntfy.sh/${bounded("a", LIMITS.notifyUrl - "https://ntfy.sh/".length)}`;
const VALID_NOTIFY: unknown[] = [
  "desktop",
  "https://ntfy.sh/topic",
  "http://127.0.0.1:8080/hook?token=a&b=c",
  "HTTPS://user:pw@example.com",
  URL_MAX,
  { command: "notify-me" },
  { command: "  ./n.sh  " },
];
const NOTIFY_TARGETS: unknown[] = [
  ...VALID_NOTIFY,
  "Desktop",
  "desktop ",
  "",
  "ftp://x",
  "http://",
  "https://",
  "https://a b",
  "https://a\nb",
  "http://[::1",
  "mailto:x@y",
  `${URL_MAX}a`,
  "notify-me",
  { command: "" },
  { command: "a\nb" },
  { command: bounded("a", LIMITS.verify + 1) },
  { command: 1 },
  { cmd: "x" },
  { command: "x", extra: 1 },
  {},
  null,
  1,
];
const NOTIFY_LISTS: unknown[] = [[], ...NOTIFY_TARGETS.map((t) => [t]), Array(LIMITS.notifyTargets).fill("desktop"), Array(LIMITS.notifyTargets + 1).fill("desktop"), "desktop", { command: "x" }];

const VALID_REVIEWS: unknown[] = [
  {},
  { rounds: 0 },
  { rounds: 10, phases: [1, 3] },
  { phases: [] },
  { instructions: "check errors", budgetUsd: 2 },
  { instructions: bounded("é", LIMITS.reviewInstructions / 2) },
];
const REVIEWS: unknown[] = [
  ...VALID_REVIEWS,
  { rounds: 11 },
  { rounds: -1 },
  { rounds: 1.5 },
  { rounds: "2" },
  { phases: [0] },
  { phases: [1.5] },
  { phases: 1 },
  { phases: ["1"] },
  { instructions: "a\0b" },
  { instructions: bounded("a", LIMITS.reviewInstructions + 1) },
  { budgetUsd: 0 },
  { extra: 1 },
  true,
  "yes",
  [],
];

function generator(seed: number) {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const any = () => pick([...TEXT, ...NUMBERS, ...OTHER, ...enums]);
  // How often a value comes from the whole pool (boundaries, wrong types) instead of its valid part: per plan.
  let bad = 0;
  /** Absent (when optional), or a valid value, or (at the plan's rate) one from the field's pool or anything. */
  const field = (pool: readonly unknown[], valid: readonly unknown[], optional = true): unknown => {
    if (optional && rand() < 0.3) return undefined;
    if (rand() >= bad) return pick(valid);
    return rand() < 0.8 ? pick(pool) : any();
  };
  const listOf = (pool: readonly unknown[], valid: readonly unknown[]) => {
    if (rand() < 0.25) return undefined;
    if (rand() < bad / 4) return any();
    return Array.from({ length: Math.floor(rand() * 4) }, () => (rand() >= bad ? pick(valid) : pick(pool)));
  };
  const put = (target: Record<string, unknown>, key: string, value: unknown) => {
    if (value !== undefined || rand() < 0.03) target[key] = value;
  };
  const rare = (p: number) => rand() < p * bad * 4;
  const task = () => {
    const t: Record<string, unknown> = {};
    put(t, "id", field(IDS, ["a", "t1", "backend", "qa-e2e"], rare(0.05)));
    put(t, "agent", field(AGENTS, ["designer", "Backend", "qa_e2e"]));
    put(t, "title", field(TEXT, ["Add the login page", "a", "é"], rare(0.05)));
    put(t, "prompt", field(TEXT, ["", "Do it", "é", bounded("é", LIMITS.prompt / 2)]));
    put(t, "dependsOn", listOf(IDS, ["a", "t1"]));
    put(t, "owns", listOf(PATHS, ["src/", "src/**/*.ts", "./src"]));
    put(t, "produces", listOf(PATHS, ["docs/api.md"]));
    put(t, "consumes", listOf(PATHS, ["docs/api.md"]));
    put(t, "verify", field(COMMANDS, ["npm test", "  npm test  ", "npm test\n"]));
    put(t, "estimate", field(NUMBERS, [1, 2.5, 1e6, 0.001]));
    put(t, "merge", field(MERGES, VALID_MERGES));
    put(t, "maxTurns", field(NUMBERS, [1, 64, 10_000]));
    put(t, "budgetUsd", field(NUMBERS, [0.001, 2.5, 10_000]));
    if (rare(0.03)) t[pick(["extra", "depends_on", "constructor", "toString"])] = 1;
    if (rare(0.02)) Object.defineProperty(t, "__proto__", { value: 1, enumerable: true, writable: true, configurable: true });
    // Key order as written varies; the result's order must not.
    return rand() < 0.3 ? Object.fromEntries(Object.entries(t).reverse()) : t;
  };
  return () => {
    bad = pick([0, 0, 0.02, 0.05, 0.2, 0.5]);
    const plan: Record<string, unknown> = {};
    put(plan, "version", field([1, 2, "1", 1.0, 0], [1], rare(0.05)));
    put(plan, "feature", field(TEXT, ["User login", "é"], rare(0.05)));
    put(plan, "slug", field(SLUGS, ["user-auth", "a1"]));
    put(plan, "base", field(BRANCHES, ["main", "feature/login"]));
    put(plan, "integrationBranch", field(BRANCHES, ["feature/x", "release-1.2"]));
    put(plan, "worktreeRoot", field(TEXT, ["..", "../worktrees", "~/wt", "/tmp/x"]));
    put(plan, "maxParallel", field(NUMBERS, [1, 4, 8, 64]));
    put(plan, "verify", field(COMMANDS, ["npm test"]));
    put(plan, "enforceOwns", field([...enums, "Deny", "", "no"], [...enums]));
    put(plan, "sandbox", field([...enums, "On", "", "yes"], ["auto", "on", "off"]));
    put(plan, "merge", field(MERGES, VALID_MERGES));
    put(plan, "maxTurns", field(NUMBERS, [1, 200]));
    put(plan, "budgetUsd", field(NUMBERS, [1, 4.5]));
    put(plan, "featureBudgetUsd", field(NUMBERS, [0.5, 20]));
    put(plan, "notify", rand() < 0.1 ? pick(NOTIFY_LISTS) : listOf(NOTIFY_TARGETS, VALID_NOTIFY));
    put(plan, "review", field(REVIEWS, VALID_REVIEWS));
    const r = rand() / Math.max(bad * 4, 0.01);
    plan.tasks = r < 0.03 ? undefined : r < 0.06 ? [] : r < 0.08 ? any() : Array.from({ length: 1 + Math.floor(rand() * 3) }, () => (rare(0.03) ? any() : task()));
    if (plan.tasks === undefined) delete plan.tasks;
    if (rare(0.03)) plan[pick(["extra", "task", "max_parallel"])] = "x";
    return rare(0.03) ? pick(OTHER) : plan;
  };
}

describe("the plan check without zod (src/core/plan/check.ts) agrees with the plan's schema", () => {
  it("has the schema's keys, in the schema's order", () => {
    expect([...CHECKED_PLAN_KEYS]).toEqual(PLAN_KEYS);
    expect([...CHECKED_TASK_KEYS]).toEqual(TASK_KEYS);
    expect([...CHECKED_MERGE_KEYS]).toEqual(MERGE_KEYS);
    expect(Object.keys((JSON_SCHEMA.properties!.merge as JsonSchema).properties!)).toEqual(MERGE_KEYS);
    expect(Object.keys(JSON_SCHEMA.properties!.notify!.items!.anyOf![1]!.properties!)).toEqual([...CHECKED_NOTIFY_COMMAND_KEYS]);
    expect(Object.keys((JSON_SCHEMA.properties!.review as JsonSchema).properties!)).toEqual([...CHECKED_REVIEW_KEYS]);
  });

  it("gives an absent key the JSON Schema's default, as a fresh value", () => {
    const minimal = {
      version: 1,
      feature: "F",
      tasks: [
        { id: "a", title: "A" },
        { id: "b", title: "B" },
      ],
    };
    const plan = checkPlan(minimal) as unknown as Record<string, unknown> & { tasks: Array<Record<string, unknown>> };
    for (const [key, s] of Object.entries(JSON_SCHEMA.properties!)) if ("default" in s) expect(plan[key], key).toEqual(s.default);
    for (const [key, s] of Object.entries(JSON_SCHEMA.properties!.tasks!.items!.properties!)) if ("default" in s) expect(plan.tasks[0]![key], key).toEqual(s.default);
    expect(plan.tasks[0]!.owns).not.toBe(plan.tasks[1]!.owns);
    expect(minimal.tasks[0]).toEqual({ id: "a", title: "A" });
  });

  it("accepts and rejects what the schema does, with the same value, on generated plans (seeded)", () => {
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const next = generator(seed);
        for (let i = 0; i < 20; i++) {
          if (agree(next())) valid++;
          else invalid++;
        }
      }),
      { seed: 20261126, numRuns: 400 },
    );
    // Both sides were exercised: a generator that made only broken (or only fine) plans proves little.
    expect(valid).toBeGreaterThan(800);
    expect(invalid).toBeGreaterThan(800);
  });

  it("agrees on every single-field change of a valid plan to each boundary value", () => {
    const base = () => ({ version: 1, feature: "F", tasks: [{ id: "a", title: "A", owns: ["src/"] }] });
    const values = [...TEXT, ...IDS, ...AGENTS, ...SLUGS, ...BRANCHES, ...PATHS, ...COMMANDS, ...NUMBERS, ...OTHER, ...enums, ...MERGES, ...NOTIFY_TARGETS, ...NOTIFY_LISTS, undefined];
    let accepted = 0;
    for (const key of CHECKED_PLAN_KEYS) {
      for (const v of values) {
        const plan: Record<string, unknown> = base();
        plan[key] = v;
        if (agree(plan)) accepted++;
      }
    }
    for (const key of CHECKED_TASK_KEYS) {
      for (const v of values) {
        const plan = base();
        (plan.tasks[0] as Record<string, unknown>)[key] = v;
        if (agree(plan)) accepted++;
        const inList = base();
        (inList.tasks[0] as Record<string, unknown>)[key] = [v];
        agree(inList);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it("reads a valid plan's text to the same plan as the reader with positions", async () => {
    for (const text of [EXAMPLE_PLAN, stringify({ version: 1, feature: "F", maxParallel: 8, tasks: [{ id: "a", title: "A", verify: "npm test", estimate: 2.5 }] })]) {
      const fast = await parsePlanText(text, "plan.yaml");
      expect(shape(fast.plan)).toEqual(shape(parsePlan(text, "plan.yaml").plan));
    }
  });

  it("leaves a plan with a problem to the schema, whose message names the line", async () => {
    const text = "version: 1\nfeature: F\ntasks:\n  - id: a\n    title: A\n    estimate: 0\n";
    const error = await parsePlanText(text, "plan.yaml").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems[0]).toMatchObject({ where: "plan.yaml:6:15 (tasks[0].estimate)", message: "an estimate is a positive number" });
  });
});
