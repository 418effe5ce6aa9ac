import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runHelper } from "./cli.js";
import { git, makeRepo, writeFiles } from "./git.js";
import { REPO_ROOT } from "./paths.js";

/** The bundled example plan, its base left to default to the current branch. */
export const EXAMPLE_PLAN_TEXT = readFileSync(join(REPO_ROOT, "examples", "user-authentication.yaml"), "utf8").replace(/^base: main\n/m, "");

/** A two-phase feature: phase 1 has tasks a and b, phase 2 has c (which depends on a). */
export const TWO_PHASES = (verify?: string) =>
  [
    "version: 1",
    "feature: Sync demo",
    ...(verify ? [`verify: ${JSON.stringify(verify)}`] : []),
    "tasks:",
    "  - {id: a, title: Part A, owns: [a/]}",
    "  - {id: b, title: Part B, owns: [b/]}",
    "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
    "",
  ].join("\n");

/** A repository (in a temp folder, or in `parent`) with the feature's plan, and its first phase started by the helper. */
export function startedFeature(name: string, plan = TWO_PHASES(), files: Record<string, string> = {}, parent?: string): { repo: string; wt: (id: string) => string } {
  const repo = makeRepo({ name, parent, files: { "README.md": "# demo\n", "shared.txt": "one\ntwo\nthree\n", ".parallel/demo/plan.yaml": plan, ...files } });
  const r = runHelper(["start"], { cwd: repo });
  if (r.code !== 0) throw new Error(`start failed: ${r.stderr}`);
  return { repo, wt: (id: string) => join(repo, "..", `${name}-demo-${id}`) };
}

export function commitIn(wt: string, files: Record<string, string>, message = "work"): string {
  writeFiles(wt, files);
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", message);
  return git(wt, "rev-parse", "HEAD");
}

/** Every ref with its commit: "nothing changed" means this is the same before and after. */
export const refsOf = (repo: string) => git(repo, "for-each-ref", "--format=%(refname) %(objectname)");

/** A feature (TWO_PHASES unless `plan` says otherwise) with both phases committed and synced: ready to finish. */
export function syncedFeature(name: string, plan = TWO_PHASES(), parent?: string): { repo: string; wt: (id: string) => string } {
  const f = startedFeature(name, plan, {}, parent);
  const sync = () => {
    const r = runHelper(["sync"], { cwd: f.repo });
    if (r.code !== 0) throw new Error(`sync failed (${r.code}): ${r.stdout}${r.stderr}`);
  };
  commitIn(f.wt("a"), { "a/x.txt": "a\n" });
  commitIn(f.wt("b"), { "b/x.txt": "b\n" });
  sync();
  commitIn(f.wt("c"), { "c/x.txt": "c\n" });
  sync();
  return f;
}
