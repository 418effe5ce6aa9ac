import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { confinedArgv, confinementUnavailable, run, runShell } from "../../src/proc.js";
import { bwrapAvailable } from "../helpers/bwrap.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

describe("confinedArgv", () => {
  it("binds the whole file system read-only, then the writable folders, and runs the command in its folder", () => {
    const [file, args] = confinedArgv("sh", ["-c", "npm test"], "/w/x", { writable: ["/w/x", "/home/u/.npm"] });
    expect(file).toBe("bwrap");
    expect(args.slice(0, 7)).toEqual(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
    expect(args.join(" ")).toContain("--bind /w/x /w/x --bind /home/u/.npm /home/u/.npm");
    expect(args.slice(-6)).toEqual(["--chdir", "/w/x", "--", "sh", "-c", "npm test"]);
    expect(args).toContain("--unshare-pid");
    expect(args).toContain("--new-session");
  });
});

describe.skipIf(!bwrapAvailable())("a confined run", () => {
  it("writes inside its writable folder only; the rest of the file system and the repository are read-only", async () => {
    expect(await confinementUnavailable()).toBeUndefined();
    const repo = makeRepo({ files: { "a.txt": "a\n" } });
    const wt = join(tempDir(), "wt");
    git(repo, "worktree", "add", "--quiet", "--detach", wt);
    const outside = tempDir();
    const r = await runShell(
      `echo ok > made.txt && git log --oneline -1 >/dev/null && echo git-reads; echo x > ${JSON.stringify(join(outside, "escape.txt"))}; echo y > ${JSON.stringify(join(repo, "a.txt"))}; git -C ${JSON.stringify(repo)} update-ref refs/heads/evil HEAD; echo z > /tmp/private; echo t > "$TMPDIR/own" && echo tmp=$TMPDIR`,
      { cwd: wt, confine: { writable: [wt] } },
    );
    expect(readFileSync(join(wt, "made.txt"), "utf8")).toBe("ok\n");
    expect(r.stdout).toContain("git-reads");
    const tmp = /tmp=(\S+)/.exec(r.stdout)?.[1];
    expect(tmp).toMatch(/claude-parallel-confined-/);
    // Its temporary folder is its own, and gone after.
    expect(existsSync(tmp!)).toBe(false);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(existsSync(join(outside, "escape.txt"))).toBe(false);
    expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("a\n");
    expect(git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/evil")).toBe("");
    expect(existsSync("/tmp/private")).toBe(false);
  });

  it("ends everything it started when the command ends (its own process namespace)", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "w"));
    const marker = `confined-sleeper-${process.pid}-${Date.now()}`;
    writeFileSync(join(dir, "w", "run.sh"), `exec -a ${marker} sleep 600 &\necho started\n`);
    const r = await run("sh", ["run.sh"], { cwd: join(dir, "w"), confine: { writable: [join(dir, "w")] } });
    expect(r.stdout).toBe("started\n");
    const left = await run("pgrep", ["-f", marker], { cwd: dir });
    expect(left.stdout).toBe("");
  });
});
