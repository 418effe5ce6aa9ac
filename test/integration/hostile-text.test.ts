import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, startedFeature } from "../helpers/feature.js";
import { makeRepo } from "../helpers/git.js";

/**
 * Text from plans, commits and file names reaches the terminal through every command. None of
 * what a terminal acts on may come out raw: C0 controls but tab and line feed, DEL, C1 controls,
 * and the bidi controls. Written out here, independently of src/core/text/terminal.ts.
 */
const ACTED_ON = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const CSI = "\x1b[2J\x1b[31m";
const OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07";
const C1 = "\x9b1m\x85";
const BIDI = "\u202e\u2066";
const HOSTILE = `${CSI}${OSC52}${C1}\r${BIDI}`;

function expectNothingRaw(r: { stdout: string; stderr: string }) {
  expect(r.stdout).not.toMatch(ACTED_ON);
  expect(r.stderr).not.toMatch(ACTED_ON);
}

describe("hostile text never reaches the terminal raw", () => {
  // YAML double-quoted strings carry the characters as escapes; the parsed plan holds them raw.
  const yamlText = JSON.stringify(HOSTILE).replace(/\\u001b/g, "\\e");
  const plan = [
    "version: 1",
    `feature: ${JSON.stringify(`Evil ${HOSTILE} feature`)}`,
    "tasks:",
    `  - {id: a, title: ${JSON.stringify(`Title ${HOSTILE} a`)}, prompt: ${JSON.stringify(`Prompt ${HOSTILE} a`)}, owns: [a/]}`,
    `  - {id: b, title: "Title ${yamlText.slice(1, -1)} b", owns: [b/]}`,
    "",
  ].join("\n");

  it("plan: the Markdown shows escapes; --json decodes to the original text", () => {
    const repo = makeRepo({ name: "hostileplan", files: { "README.md": "# x\n", ".parallel/evil/plan.yaml": plan } });
    const md = runHelper(["plan", ".parallel/evil/plan.yaml"], { cwd: repo });
    expect(md.code).toBe(0);
    expectNothingRaw(md);
    expect(md.stdout).toContain("\\x1b]52;c;cm0gLXJmIH4K\\x07");
    expect(md.stdout).toContain("\\u202e");
    const json = runHelper(["plan", ".parallel/evil/plan.yaml", "--json", "--no-write"], { cwd: repo });
    expect(json.code).toBe(0);
    expectNothingRaw(json);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.feature).toBe(`Evil ${HOSTILE} feature`);
    expect(parsed.phases[0].tasks.map((t: { title: string }) => t.title).sort()).toEqual([`Title ${HOSTILE} a`, `Title ${HOSTILE} b`]);
  });

  it("plan: an error message quoting hostile text shows escapes", () => {
    const repo = makeRepo({ name: "hostileerr" });
    const path = join(repo, "..", "bad.yaml");
    writeFileSync(path, `version: 1\nfeature: Demo\ntasks:\n  - {id: a, title: A, ${JSON.stringify(HOSTILE)}: 1}\n`);
    const r = runHelper(["plan", path], { cwd: repo });
    expect(r.code).toBe(2);
    expectNothingRaw(r);
    expect(r.stderr).toContain("\\x1b[2J");
  });

  it("status: a commit subject and a file name holding control and bidi characters show as escapes", () => {
    const { repo, wt } = startedFeature("hostilestatus");
    const name = `x${CSI}${BIDI}y.txt`;
    commitIn(wt("a"), { [name]: "outside a/\n", [`a/${OSC52}.txt`]: "mine\n" }, `Subject ${HOSTILE} end`);
    writeFileSync(join(wt("b"), `b${C1}\r.txt`), "uncommitted\n");
    const md = runHelper(["status", "demo"], { cwd: repo });
    expect(md.code).toBe(0);
    expectNothingRaw(md);
    expect(md.stdout).toContain("Subject \\x1b[2J\\x1b[31m\\x1b]52;c;cm0gLXJmIH4K\\x07");
    expect(md.stdout).toContain("x\\x1b[2J\\x1b[31m\\u202e\\u2066y.txt");
    const json = runHelper(["status", "demo", "--json"], { cwd: repo });
    expect(json.code).toBe(0);
    expectNothingRaw(json);
    const task = JSON.parse(json.stdout).phases[0].tasks.find((t: { id: string }) => t.id === "a");
    expect(task.lastCommit.subject).toBe(`Subject ${HOSTILE} end`);
    expect(task.outsideOwns).toEqual([name]);
    const sync = runHelper(["sync", "demo", "--dry-run"], { cwd: repo });
    expect(sync.code).toBe(4);
    expectNothingRaw(sync);
    expect(sync.stdout + sync.stderr).toContain("\\u202e");
  });
});
