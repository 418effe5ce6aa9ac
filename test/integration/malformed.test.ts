import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper, runHelperInProcess, type CliResult } from "../helpers/cli.js";
import { makeRepo } from "../helpers/git.js";
import { REPO_ROOT } from "../helpers/paths.js";

const corpus = join(REPO_ROOT, "test", "fixtures", "malformed");
const files = readdirSync(corpus)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function expectation(file: string): string {
  const text = readFileSync(join(corpus, file), "utf8");
  return /^# expect: (.*)$/m.exec(text)?.[1] ?? "the plan is empty";
}

/**
 * The corpus runs through the bundle's command runner inside the test process (one helper
 * process per case made this file slow); a sample of it, and the cases below, run as real
 * processes, and the sample must answer byte for byte the same both ways.
 */
const SAMPLE = 3;

/** Runs `plan` on a bad file inside a real repository and checks the whole contract of a refusal. */
async function expectRefusal(repo: string, planPath: string, message: string, how: "process" | "in-process" = "process") {
  const r: CliResult = how === "process" ? runHelper(["plan", planPath], { cwd: repo }) : await runHelperInProcess(["plan", planPath], { cwd: repo });
  expectRefused(r, repo, planPath, message);
}

function expectRefused(r: CliResult, repo: string, planPath: string, message: string) {
  expect(r.stderr).toContain(message);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^claude-parallel: /);
  expect(r.stderr).toContain(planPath.split("/").pop());
  expect(existsSync(join(repo, ".parallel"))).toBe(false);
}

describe("malformed plans", () => {
  it("has a corpus of at least 30 cases", () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  const repo = makeRepo();
  it.each(files)("%s: exit 2, one clear message, nothing written", async (file) => {
    const path = join(repo, "..", file);
    writeFileSync(path, readFileSync(join(corpus, file)));
    await expectRefusal(repo, path, expectation(file), "in-process");
  });

  // Spread over the corpus: the first, one from the middle, the last.
  const sample = Array.from({ length: SAMPLE }, (_, k) => files[Math.round((k * (files.length - 1)) / (SAMPLE - 1))]!);
  it.each(sample)("%s: a real helper process answers exactly as the in-process run", async (file) => {
    const path = join(repo, "..", file);
    writeFileSync(path, readFileSync(join(corpus, file)));
    const real = runHelper(["plan", path], { cwd: repo });
    expectRefused(real, repo, path, expectation(file));
    expect(await runHelperInProcess(["plan", path], { cwd: repo })).toEqual(real);
  });

  it("points at the line and field of the problem", () => {
    const path = join(repo, "..", "located.yaml");
    writeFileSync(path, "version: 1\nfeature: Demo\ntasks:\n  - id: a\n    title: A\n  - id: b\n    title: B\n    dependsOn: [a, zz]\n");
    const r = runHelper(["plan", path], { cwd: repo });
    expect(r.stderr).toContain("located.yaml:8:20 (tasks[1].dependsOn[1])");
    expect(r.stderr).toContain("fix: use one of: a");
  });

  it("refuses a 10 MB file without reading it into the parser", () => {
    const path = join(repo, "..", "huge.yaml");
    writeFileSync(path, "version: 1\nfeature: Demo\n# " + "x".repeat(10 * 1024 * 1024) + "\ntasks: []\n");
    return expectRefusal(repo, path, "a plan may be at most 4 MiB");
  });

  it("refuses a YAML alias bomb", () => {
    const path = join(repo, "..", "bomb.yaml");
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      levels.push(
        `l${i}: &l${i} [${Array(10)
          .fill(i === 1 ? "*a" : `*l${i - 1}`)
          .join(", ")}]`,
      );
    writeFileSync(path, `version: 1\nfeature: Demo\n${levels.join("\n")}\ntasks: []\n`);
    return expectRefusal(repo, path, "aliases too heavily");
  });

  it("refuses a binary file and a missing file", async () => {
    const binary = join(repo, "..", "binary.yaml");
    writeFileSync(binary, Buffer.from([0x76, 0x00, 0x01, 0x02]));
    await expectRefusal(repo, binary, "binary file");
    await expectRefusal(repo, join(repo, "..", "nope.yaml"), "no such plan file");
  });

  it("refuses bad usage with exit 2 and a suggestion", () => {
    expect(runHelper(["plna"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("did you mean `plan`?") });
    expect(runHelper(["plan"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("needs the plan file") });
    expect(runHelper(["plan", "x.yaml", "--jsno"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("did you mean `json`?") });
    expect(runHelper(["plan", "a.yaml", "b.yaml"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("unexpected argument `b.yaml`") });
  });
});
