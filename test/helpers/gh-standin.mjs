#!/usr/bin/env node
// A stand-in for gh (GitHub CLI) in tests: answers from the JSON fixture named by GH_STANDIN, no
// network. The pull request's head is the remote's branch as it is now (the fixture's bare
// repository); while it is at `failingHead`, the check fails and the review is not approved, after
// a push both pass. Its `state` is OPEN unless the fixture says MERGED or CLOSED. Every call's
// arguments are appended to the fixture's `calls` file.
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";

const fixture = JSON.parse(readFileSync(process.env.GH_STANDIN, "utf8"));
const args = process.argv.slice(2);
appendFileSync(fixture.calls, JSON.stringify(args) + "\n");
const say = (value) => process.stdout.write(typeof value === "string" ? value + "\n" : JSON.stringify(value) + "\n");
const fields = () => (args[args.indexOf("--json") + 1] ?? "").split(",");
const pick = (object) => Object.fromEntries(fields().map((f) => [f, object[f]]));
const head = () => execFileSync("git", ["--git-dir", fixture.remote, "rev-parse", `refs/heads/${fixture.branch}`], { encoding: "utf8" }).trim();
const failing = () => head() === fixture.failingHead;
const [a, b] = args;

if (a === "auth" && b === "status") process.exit(0);
// The fixture's pull request is listed (any state) once `listed` says it exists; else none is.
if (a === "pr" && b === "list") {
  if (fixture.listed) say([pick({ url: fixture.url, state: fixture.state ?? "OPEN", headRefOid: head(), isCrossRepository: false })]);
  process.exit(0);
}
if (a === "pr" && b === "create") {
  say(fixture.url);
  process.exit(0);
}
if (a === "pr" && b === "view" && args[2] === fixture.branch) {
  say(
    pick({
      number: fixture.number,
      url: fixture.url,
      state: fixture.state ?? "OPEN",
      headRefName: fixture.branch,
      headRefOid: head(),
      isCrossRepository: false,
      reviewDecision: failing() ? "REVIEW_REQUIRED" : "APPROVED",
    }),
  );
  process.exit(0);
}
if (a === "pr" && b === "checks" && args[2] === fixture.branch) {
  const bucket = failing() ? "fail" : "pass";
  say([pick({ name: "test", state: bucket === "fail" ? "FAILURE" : "SUCCESS", bucket, link: `https://github.com/acme/shop/actions/runs/11/job/${fixture.job}`, description: "", workflow: "CI" })]);
  process.exit(bucket === "fail" ? 1 : 0);
}
if (a === "run" && b === "view" && args.includes("--log-failed") && args[args.indexOf("--job") + 1] === String(fixture.job)) {
  say(fixture.log);
  process.exit(0);
}
if (a === "api" && b === `repos/{owner}/{repo}/pulls/${fixture.number}/comments?per_page=100`) {
  say(fixture.comments);
  process.exit(0);
}
process.stderr.write(`gh stand-in: no answer for ${JSON.stringify(args)}\n`);
process.exit(1);
