import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, gitTry } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { refsOf, TWO_PHASES, syncedFeature } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";

const finished = (name: string) => syncedFeature(name);

const checkoutState = (repo: string) => ({
  head: git(repo, "rev-parse", "HEAD"),
  status: git(repo, "status", "--porcelain", "--ignored"),
  mergeHead: existsSync(join(repo, ".git/MERGE_HEAD")),
});

describe("refs and names", () => {
  it("finish does not report success while base lacks the work, when a tag has the integration branch's name", () => {
    const { repo } = finished("tagged");
    git(repo, "tag", "feature/demo", "main");
    const r = runHelper(["finish"], { cwd: repo });
    const merged = gitTry(repo, ["merge-base", "--is-ancestor", "refs/heads/feature/demo", "refs/heads/main"]).code === 0;
    expect([0, 4], describeRun(r)).toContain(r.code);
    if (r.code === 0) expect(merged, `finish said it merged, but main lacks refs/heads/feature/demo: ${describeRun(r)}`).toBe(true);
  });

  for (const name of ["refs/heads/main", "main/integration"]) {
    it(`integrationBranch: ${name} is refused (plan: 2, or start: 4), never accepted`, () => {
      const plan = TWO_PHASES().replace("feature: Sync demo\n", `feature: Sync demo\nintegrationBranch: ${name}\n`);
      const repo = makeRepo({ name: "badint", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": plan } });
      const before = refsOf(repo);
      const p = runHelper(["plan", ".parallel/demo/plan.yaml", "--no-write"], { cwd: repo });
      const s = runHelper(["start"], { cwd: repo });
      const context = `plan: ${describeRun(p)}\nstart: ${describeRun(s)}`;
      expect([p.code, s.code], context).not.toContain(1);
      expect(p.code === 2 || s.code === 4, context).toBe(true);
      expect([2, 4], context).toContain(s.code);
      expect(refsOf(repo), context).toBe(before);
    });
  }

  it("finish into the user's checkout when a pre-merge-commit hook fails: exit 3 or 4 with the hook's message, the checkout restored", () => {
    const { repo } = finished("hooked");
    writeFileSync(join(repo, ".git/hooks/pre-merge-commit"), "#!/bin/sh\necho 'pre-merge-commit: merges are frozen today' >&2\nexit 1\n");
    chmodSync(join(repo, ".git/hooks/pre-merge-commit"), 0o755);
    const before = checkoutState(repo);
    const r = runHelper(["finish"], { cwd: repo });
    expect([3, 4], describeRun(r)).toContain(r.code);
    expect(r.stderr).toContain("merges are frozen today");
    expect(checkoutState(repo), describeRun(r)).toEqual(before);
  });

  it("finish with commit.gpgsign=true and no usable key: exit 3 or 4 with git's message, the checkout restored", () => {
    const { repo } = finished("signed");
    const gpg = join(repo, "..", "no-key-gpg");
    writeFileSync(gpg, "#!/bin/sh\necho 'gpg: signing failed: No secret key' >&2\nexit 2\n", { mode: 0o755 });
    git(repo, "config", "commit.gpgsign", "true");
    git(repo, "config", "gpg.program", gpg);
    const before = checkoutState(repo);
    const r = runHelper(["finish"], { cwd: repo });
    expect([3, 4], describeRun(r)).toContain(r.code);
    expect(r.stderr).toMatch(/gpg|sign/i);
    expect(checkoutState(repo), describeRun(r)).toEqual(before);
  });
});
