import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { startedFeature } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * `clean` forgets the trust records (.git/parallel/.trusted/<digest>) that name its feature, and
 * nothing else: records are files anyone with the repository (a session that escaped its sandbox,
 * a pulled state's author) may have planted or replaced, so they are read as untrusted input.
 */

const started = reusableFolder((folder) => startedFeature("trusted", undefined, {}, folder));
const record = (slug?: string) => JSON.stringify({ allowedAt: "2026-01-01T00:00:00.000Z", ...(slug !== undefined && { slug }) }) + "\n";
const digest = (c: string) => c.repeat(64);

describe("clean and the trust records", () => {
  it("forgets only the regular records naming its feature: another feature's, a link, a folder, a FIFO and a look-alike name stay, and nothing outside is touched", () => {
    const { repo } = started();
    const trusted = join(repo, ".git", "parallel", ".trusted");
    mkdirSync(trusted, { recursive: true });
    const outside = tempDir("outside-");
    const target = join(outside, digest("0"));
    writeFileSync(target, record("demo"));
    writeFileSync(join(trusted, digest("a")), record("demo"));
    writeFileSync(join(trusted, digest("b")), record("other"));
    writeFileSync(join(trusted, digest("1")), record());
    writeFileSync(join(trusted, digest("2")), JSON.stringify({ allowedAt: "x", slug: ["demo"] }));
    symlinkSync(target, join(trusted, digest("c")));
    mkdirSync(join(trusted, digest("d")));
    writeFileSync(join(trusted, digest("d"), "inside"), record("demo"));
    execFileSync("mkfifo", [join(trusted, digest("e"))]);
    writeFileSync(join(trusted, digest("F")), record("demo"));
    writeFileSync(join(trusted, `${digest("a").slice(1)}g`), record("demo"));
    const before = readdirSync(trusted).sort();

    const r = runHelper(["clean", "demo"], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`forgot claude-parallel allow ${digest("a")}`);
    expect(readdirSync(trusted).sort()).toEqual(before.filter((n) => n !== digest("a")));
    expect(lstatSync(join(trusted, digest("c"))).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(record("demo"));
    expect(readdirSync(join(trusted, digest("d")))).toEqual(["inside"]);
    expect(lstatSync(join(trusted, digest("e"))).isFIFO()).toBe(true);
  });

  it("a .trusted that is a link to a folder elsewhere: clean removes nothing there", () => {
    const { repo } = started();
    const parallel = join(repo, ".git", "parallel");
    rmSync(join(parallel, ".trusted"), { recursive: true, force: true });
    const elsewhere = tempDir("elsewhere-");
    writeFileSync(join(elsewhere, digest("a")), record("demo"));
    symlinkSync(elsewhere, join(parallel, ".trusted"));
    runHelper(["clean", "demo"], { cwd: repo });
    expect(existsSync(join(elsewhere, digest("a")))).toBe(true);
  });
});
