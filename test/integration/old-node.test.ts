import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { makeRepo } from "../helpers/git.js";
import { OLD_NODE_VERSION, oldNodeAvailable, oldNodeBinary } from "../helpers/old-node.js";
import { HELPER } from "../helpers/paths.js";

const NEEDS = `claude-parallel needs Node.js 20 or newer; this is Node.js v${OLD_NODE_VERSION}. Install Node.js 20+ and run it again.`;

describe(`on a real Node ${OLD_NODE_VERSION} (no util.parseArgs)`, () => {
  const available = oldNodeAvailable();
  const run = (...args: string[]) => {
    const r = spawnSync(oldNodeBinary(), [HELPER, ...args], { cwd: makeRepo(), encoding: "utf8", timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it.skipIf(!available)("the binary is that old Node", () => {
    expect(spawnSync(oldNodeBinary(), ["--version"], { encoding: "utf8" }).stdout.trim()).toBe(`v${OLD_NODE_VERSION}`);
  });

  it.skipIf(!available).each(["--version", "plan x", "sync --dry-run"])("%s: says it needs Node 20, exit 3", (line) => {
    const r = run(...line.split(" "));
    expect(r.stderr).not.toContain("SyntaxError");
    expect(r.stderr).toBe(`claude-parallel: ${NEEDS}\n`);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(3);
  });

  it.skipIf(!available)("context: a Problems block for /parallel's prompt, exit 0 (a failing `!` line would abort the command)", () => {
    const r = run("context");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`# claude-parallel context\n\n## Problems\n\n- ${NEEDS}\n`);
    expect(r.code).toBe(0);
  });
});
