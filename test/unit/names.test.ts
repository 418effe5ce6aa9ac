import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { branchNameProblem, roleTitle, sessionLabel, slugify, taskBranch, taskWorktree, SLUG_PATTERN, TASK_ID_PATTERN } from "../../src/core/plan/names.js";

function gitAccepts(name: string): string | undefined {
  try {
    return execFileSync("git", ["check-ref-format", "--branch", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trimEnd();
  } catch {
    return undefined;
  }
}

const taskId = fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/);
const slug = fc.stringMatching(/^[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,3}$/);

describe("names", () => {
  it("derives slugs that match the slug pattern, from any title", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 120 }), (title) => {
        const s = slugify(title);
        expect(s).toMatch(SLUG_PATTERN);
        expect(s.length).toBeLessThanOrEqual(48);
      }),
    );
    expect(slugify("Add user authentication!")).toBe("add-user-authentication");
    expect(slugify("Crème brûlée API")).toBe("creme-brulee-api");
    expect(slugify("用户认证")).toMatch(/^feature-[0-9a-f]{8}$/);
    // The same slug as before node:crypto was loaded lazily (sha1 of the title, first 8 hex digits).
    expect(slugify("日本語")).toBe("feature-c12140a0");
  });

  it("builds branch names that git returns unchanged", () => {
    fc.assert(
      fc.property(slug, taskId, (s, id) => {
        expect(id).toMatch(TASK_ID_PATTERN);
        const branch = taskBranch(`feature/${s}`, id);
        expect(branchNameProblem(branch)).toBeUndefined();
        expect(gitAccepts(branch)).toBe(branch);
      }),
      { numRuns: 100 },
    );
  });

  it("accepts only names git accepts unchanged (and refuses '@', which means HEAD)", () => {
    const unit = fc.constantFrom("a", "b", "/", ".", "-", "@", "{", "~", "^", ":", " ", "*", "[", "\\", "lock", "x.lock", "..", "HEAD", "\t");
    fc.assert(
      fc.property(
        fc.array(unit, { minLength: 1, maxLength: 6 }).map((parts) => parts.join("")),
        (name) => {
          const ours = branchNameProblem(name) === undefined;
          const theirs = gitAccepts(name) === name;
          if (name === "@") expect(ours).toBe(false);
          else expect({ name, ours }).toEqual({ name, ours: theirs });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps worktrees inside their root", () => {
    fc.assert(
      fc.property(slug, taskId, (s, id) => {
        const path = taskWorktree("..", "app", s, id);
        expect(path).toBe(`../app-${s}-${id}`);
        expect(dirname(path)).toBe("..");
      }),
    );
    expect(taskWorktree("/srv/work/", "app", "x", "a")).toBe("/srv/work/app-x-a");
  });

  it("labels sessions and roles", () => {
    expect([0, 1, 25, 26, 27, 701, 702].map(sessionLabel)).toEqual(["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]);
    expect(roleTitle("qa")).toBe("QA");
    expect(roleTitle("frontend")).toBe("Frontend");
    expect(roleTitle("api-docs")).toBe("Api Docs");
  });
});
