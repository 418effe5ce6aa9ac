import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";

/**
 * An option whose value starts with a dash (`--attempts -1`) or is missing before the next option
 * (`--model --dry-run`): Node's parser calls it "argument is ambiguous" and explains in lines the
 * helper used to drop. The message names the option and says how to give the value.
 */
describe("option values that start with a dash", () => {
  it("say which option needs a value and how to write it; exit 2, nothing changed", () => {
    const repo = makeRepo({ name: "optdash" });
    for (const args of [
      ["run", "--attempts", "-1"],
      ["run", "--model", "--dry-run"],
      ["status", "--watch", "--interval", "-1"],
    ]) {
      const r = runHelper(args, { cwd: repo });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).not.toContain("ambiguous");
      expect(r.stderr).toContain(`claude-parallel: ${args[1] === "--watch" ? "--interval" : args[1]} needs a value`);
      expect(r.stderr).toMatch(/fix: .*=-VALUE/);
    }
    expect(git(repo, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
  });
});
