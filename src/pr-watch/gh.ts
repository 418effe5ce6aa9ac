import * as z from "zod/mini";
import { EnvironmentError } from "../core/errors.js";
import { run } from "../proc.js";
import type { PrCheck, PrComment, PrFacts } from "../core/decide/decide-watch.js";

/**
 * The pull request of a branch as gh reports it: its state and head (`gh pr view`), its checks
 * (`gh pr checks`), each failing GitHub Actions job's log (`gh run view --log-failed`) and its
 * review comments on files (`gh api .../pulls/<n>/comments`). Everything gh says is checked against
 * the shapes below and bounded: it comes from the network and was written by others.
 */

const GH_ENV = { GH_PROMPT_DISABLED: "1", NO_COLOR: "1", GH_PAGER: "cat", CLICOLOR: "0" };
const MAX_LOG = 1024 * 1024;
const MAX_JSON = 16 * 1024 * 1024;
/** The failing checks whose logs are fetched (one gh call each); the others are known by their description. */
const MAX_FAILED_LOGS = 10;

/** A pull request's address: one http(s) URL of printable ASCII (it is printed, notified and shown in status). */
const PR_URL = z.string().check(z.regex(/^https?:\/\/[\x21-\x7e]+$/));
const ViewSchema = z.object({
  number: z.number().check(z.int(), z.positive()),
  url: PR_URL,
  state: z.enum(["OPEN", "CLOSED", "MERGED"]),
  headRefOid: z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)),
  // APPROVED, CHANGES_REQUESTED, REVIEW_REQUIRED, or none: a word, as it is printed in the watch's messages.
  reviewDecision: z.optional(z.nullable(z.string().check(z.regex(/^[A-Z_]*$/)))),
  isCrossRepository: z.boolean(),
});

/** gh finds a pull request by its branch's name, which a fork's branch can have too: that one is someone else's. */
function ownPullRequest<T extends { isCrossRepository: boolean; url: string }>(view: T, branch: string): T {
  if (view.isCrossRepository)
    throw new EnvironmentError(
      `the pull request gh finds for ${branch} (${view.url}) comes from another repository's branch of the same name, not from this feature's`,
      "close that one or give the feature's own pull request to gh by its address; finish --pr opens the feature's own",
    );
  return view;
}
// Bounded: each check's name is kept (in the watch's record) once handed out, for each head.
const ChecksSchema = z
  .array(
    z.object({
      name: z.string().check(z.maxLength(256)),
      bucket: z.enum(["pass", "fail", "pending", "skipping", "cancel"]),
      link: z.optional(z.nullable(z.string())),
      description: z.optional(z.nullable(z.string())),
    }),
  )
  .check(z.maxLength(1000));
const CommentsSchema = z.array(
  z.object({
    id: z.number().check(z.int()),
    path: z.string(),
    line: z.optional(z.nullable(z.number())),
    body: z.string(),
    user: z.optional(z.nullable(z.object({ login: z.string() }))),
    author_association: z.optional(z.string()),
  }),
);
const COLLABORATOR = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);

async function gh(args: string[], cwd: string, ok: readonly number[] = [0], maxBuffer = MAX_JSON): Promise<string> {
  const r = await run("gh", args, { cwd, env: GH_ENV, maxBuffer });
  if (r.spawnError) throw new EnvironmentError("gh (GitHub CLI) is not installed, so the pull request cannot be watched", "install gh (https://cli.github.com) and log in with `gh auth login`");
  if (!ok.includes(r.exitCode)) {
    const said = `${r.stderr}${r.stdout}`.trim().split("\n").slice(-3).join(" / ");
    throw new EnvironmentError(
      `\`gh ${args.slice(0, 2).join(" ")}\` failed (exit ${r.exitCode})${said ? `: ${said}` : ""}`,
      "check `gh auth status` and that the pull request exists, then watch again",
    );
  }
  return r.stdout;
}

function parsed<T>(text: string, schema: z.ZodMiniType<T>, what: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new EnvironmentError(`gh's answer to ${what} is not JSON`, "update gh (https://cli.github.com), then watch again");
  }
  const result = z.safeParse(schema, data);
  if (!result.success)
    throw new EnvironmentError(
      `gh's answer to ${what} does not have the expected shape (${result.error.issues[0]!.path.join(".")}: ${result.error.issues[0]!.message})`,
      "update gh (https://cli.github.com), then watch again",
    );
  return result.data;
}

export async function pullRequestFacts(cwd: string, branch: string): Promise<PrFacts> {
  const view = ownPullRequest(parsed(await gh(["pr", "view", branch, "--json", "number,url,state,headRefOid,reviewDecision,isCrossRepository"], cwd), ViewSchema, "gh pr view"), branch);
  const checks: PrCheck[] = [];
  if (view.state === "OPEN") {
    // Exit 8: some are pending; 1: some failed, or none are reported (then the answer is no JSON).
    const listed = await gh(["pr", "checks", branch, "--json", "name,bucket,link,description"], cwd, [0, 1, 8]);
    let logs = 0;
    for (const c of listed.trim() ? parsed(listed, ChecksSchema, "gh pr checks") : []) {
      const log = c.bucket === "fail" && logs++ < MAX_FAILED_LOGS ? await failedLog(cwd, c.link ?? undefined) : undefined;
      checks.push({ name: c.name, bucket: c.bucket, ...((log ?? c.description) && { log: log ?? c.description! }) });
    }
  }
  // One page of the oldest 100 comments: more than that on one pull request is for a person to read.
  const listed = parsed(await gh(["api", `repos/{owner}/{repo}/pulls/${view.number}/comments?per_page=100`], cwd), CommentsSchema, "the review comments");
  const comments: PrComment[] = listed.map((c) => ({
    id: c.id,
    path: c.path,
    ...(typeof c.line === "number" && { line: c.line }),
    body: c.body,
    author: c.user?.login ?? "(unknown)",
    collaborator: COLLABORATOR.has(c.author_association ?? ""),
  }));
  return { number: view.number, url: view.url, state: view.state, headOid: view.headRefOid, reviewDecision: view.reviewDecision ?? "", checks, comments };
}

/** The address of the branch's pull request (`gh pr view`). */
export async function pullRequestUrl(cwd: string, branch: string): Promise<string> {
  return ownPullRequest(parsed(await gh(["pr", "view", branch, "--json", "url,isCrossRepository"], cwd), z.object({ url: PR_URL, isCrossRepository: z.boolean() }), "gh pr view"), branch).url;
}

/** The failing steps' log of a GitHub Actions job, from the check's link (`.../actions/runs/<run>/job/<job>`); its tail when long. */
async function failedLog(cwd: string, link: string | undefined): Promise<string | undefined> {
  const job = link && /\/actions\/runs\/\d+\/job\/(\d+)(?:[/?#]|$)/.exec(link)?.[1];
  if (!job) return undefined;
  const r = await run("gh", ["run", "view", "--job", job, "--log-failed"], { cwd, env: GH_ENV, maxBuffer: MAX_LOG });
  return r.exitCode === 0 && !r.spawnError ? r.stdout : undefined;
}
