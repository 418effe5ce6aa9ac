import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as z from "zod/mini";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError, ProcessError } from "../core/errors.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { commitOf } from "../git/repo.js";
import { baseRemote } from "../git/push.js";
import { git } from "../git/run.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import { run } from "../proc.js";
import { code, oneLine } from "../core/render/markdown-text.js";
import { quote, sh } from "../core/text/shell.js";
import { readVerifyRecord, type VerifyRecord } from "../session/verify.js";
import type { FinishAction, FinishPlace, PullRequestFacts } from "../core/decide/decide-finish.js";

interface PrContext {
  commonDir: string;
  /** Where git and gh run: the repository's main checkout. */
  mainRoot: string;
  slug: string;
  plan: ExecutionPlan;
  state: FeatureState;
}

/**
 * `finish --pr`'s facts: where the integration branch would be pushed (the base branch's remote)
 * and what that remote has, whether gh can open the pull request here, the branch's pull request
 * in any state, and its title and description. Changes nothing. In CI, where nobody reads printed
 * commands, gh that cannot open it is an environment error before anything is pushed.
 */
export async function gatherPullRequest(ctx: PrContext): Promise<PullRequestFacts> {
  const { mainRoot, plan } = ctx;
  const branch = plan.integrationBranch;
  const ref = `refs/heads/${branch}`;
  const [tip, { remote, remotes }, gh] = await Promise.all([commitOf(ref, mainRoot), baseRemote(mainRoot, plan.base), ghReady(mainRoot)]);
  if (gh !== "ready" && process.env.GITHUB_ACTIONS === "true") {
    throw new EnvironmentError(
      gh === "missing"
        ? "gh (GitHub CLI) is not installed on this runner, so the pull request cannot be opened"
        : "gh (GitHub CLI) is not logged in (`gh auth status` failed: no GH_TOKEN?), so the pull request cannot be opened",
      gh === "missing" ? "install gh on the runner (GitHub's hosted runners have it)" : "give the step GH_TOKEN (the workflow ci init writes does), then re-run the job",
    );
  }
  const facts: PullRequestFacts = { kind: "pr", ...(tip !== undefined && { tip }), ...(remote !== undefined && { remote }), remotes, gh, title: oneLine(plan.feature), body: await prBody(ctx) };
  if (tip === undefined || remote === undefined) return facts;
  const there = await git(["ls-remote", "--refs", "--", remote, ref], mainRoot);
  if (there.exitCode === 0 && there.stdout) facts.remoteTip = there.stdout.split("\t")[0];
  if (gh === "ready") {
    const pullRequest = await branchPullRequest(mainRoot, branch, plan.base);
    if (pullRequest) facts.pullRequest = pullRequest;
  }
  return facts;
}

/** What gh says of a pull request: data from the network, checked field by field (printable URL, known state, a commit id). */
const PullRequestsSchema = z.array(
  z.object({
    url: z.string().check(z.regex(/^https?:\/\/[\x21-\x7e]+$/)),
    state: z.enum(["OPEN", "CLOSED", "MERGED"]),
    headRefOid: z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)),
    isCrossRepository: z.boolean(),
  }),
);

/**
 * The branch's pull request into base in any state: an open one, else the newest (gh lists the
 * newest first). None when gh cannot list them (a `gh pr create` then says why); an answer that is
 * not what gh gives is an environment error before anything is pushed.
 */
async function branchPullRequest(mainRoot: string, branch: string, base: string): Promise<PullRequestFacts["pullRequest"]> {
  const listed = await run("gh", ["pr", "list", "--head", branch, "--base", base, "--state", "all", "--limit", "20", "--json", "url,state,headRefOid,isCrossRepository"], ghEnv(mainRoot));
  if (listed.exitCode !== 0 || listed.spawnError || !listed.stdout.trim()) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(listed.stdout);
  } catch {
    data = undefined;
  }
  const parsed = z.safeParse(PullRequestsSchema, data);
  if (!parsed.success)
    throw new EnvironmentError(`gh's list of the pull requests of ${branch} is not what gh gives (\`gh pr list --json\`)`, "update gh (https://cli.github.com), then run finish --pr again");
  // `--head` matches the branch's name in any repository: a fork's branch of that name is someone else's.
  const ours = parsed.data.filter((p) => !p.isCrossRepository);
  const pr = ours.find((p) => p.state === "OPEN") ?? ours[0];
  if (!pr) return undefined;
  return { url: pr.url, state: pr.state === "OPEN" ? "open" : pr.state === "MERGED" ? "merged" : "closed", head: pr.headRefOid };
}

/**
 * Pushes the integration branch, opens the pull request with gh, or prints the commands that do.
 * Nothing is merged locally and the feature is not recorded as finished (that happens when base holds it).
 */
export async function applyPullRequest(a: Extract<FinishAction, { kind: "push" | "open-pull-request" | "print-pull-request-commands" }>, place: FinishPlace): Promise<string> {
  const { mainRoot, base, integrationBranch: branch } = place;
  const ref = `refs/heads/${branch}`;
  const refspec = `${ref}:${ref}`;
  switch (a.kind) {
    case "push": {
      const pushArgs = ["push", "--", a.remote, refspec];
      const pushed = await git(pushArgs, mainRoot);
      if (pushed.exitCode !== 0) throw new ProcessError({ file: "git", args: pushArgs, cwd: mainRoot, exitCode: pushed.exitCode, stderr: pushed.stderr || pushed.stdout });
      // What the remote says (a hosting service's link to open a pull request, a warning) is for the user.
      const remoteSaid = pushed.stderr.split("\n").filter((line) => line.startsWith("remote:") && line.slice(7).trim());
      return [`Pushing ${branch} (${a.tip.slice(0, 12)}) to the remote ${a.remote}, as ${ref} there.`, ...remoteSaid, `Pushed ${branch} to ${a.remote}.`].join("\n");
    }
    case "open-pull-request": {
      const { folder, bodyFile } = await writeBody(a.body);
      try {
        const created = await run("gh", ["pr", "create", "--base", base, "--head", branch, "--title", a.title, "--body-file", bodyFile], ghEnv(mainRoot));
        if (created.exitCode !== 0 || created.spawnError) {
          const said = `${created.stderr}${created.stdout}`.trim();
          throw new EnvironmentError(
            `gh could not open the pull request of ${branch} into ${base}${said ? `: ${said.split("\n").slice(-3).join(" / ")}` : ""}`,
            /not permitted to create or approve pull requests/i.test(said)
              ? 'allow it in the repository\'s Settings > Actions > General ("Allow GitHub Actions to create and approve pull requests"), or give the job a token of yours (the secret CLAUDE_PARALLEL_PR_TOKEN), then run finish --pr again'
              : `run it again; the branch is pushed, so ${sh`gh pr create --base ${base} --head ${branch}`} also opens it`,
          );
        }
        const url = /https?:\/\/\S+/.exec(created.stdout)?.[0] ?? created.stdout.trim();
        return `Opened the pull request of ${branch} into ${base}: ${url}\nHand its failing checks and review comments to the sessions: claude-parallel watch ${quote(place.slug)}`;
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    }
    case "print-pull-request-commands": {
      // The body file stays for the printed command.
      const { bodyFile } = await writeBody(a.body);
      return [
        a.gh === "missing"
          ? "gh (GitHub CLI) is not installed, so the pull request was not opened."
          : "gh (GitHub CLI) is not logged in (`gh auth status` failed), so the pull request was not opened: run `gh auth login` first.",
        "Open it with these commands, in the repository (the first pushes again, after new commits):",
        `  ${sh`git push ${a.remote} ${refspec}`}`,
        `  ${sh`gh pr create --base ${base} --head ${branch} --title ${a.title} --body-file ${bodyFile}`}`,
      ].join("\n");
    }
  }
}

async function writeBody(body: string): Promise<{ folder: string; bodyFile: string }> {
  const folder = await mkdtemp(join(tmpdir(), "claude-parallel-pr-"));
  const bodyFile = join(folder, "body.md");
  await writeFile(bodyFile, body);
  return { folder, bodyFile };
}

const ghEnv = (cwd: string) => ({ cwd, env: { GH_PROMPT_DISABLED: "1", NO_COLOR: "1" } });

/** Whether gh can open the pull request here: installed, and logged in. */
async function ghReady(cwd: string): Promise<"ready" | "missing" | "logged-out"> {
  const r = await run("gh", ["auth", "status"], ghEnv(cwd));
  if (r.spawnError) return "missing";
  return r.exitCode === 0 ? "ready" : "logged-out";
}

/** The pull request's description: the phases, their tasks, and what the state knows of each sync and verify run. */
async function prBody({ commonDir, slug, plan, state }: PrContext): Promise<string> {
  const tasks = plan.phases.reduce((n, p) => n + p.tasks.length, 0);
  const lines: string[] = [
    `${oneLine(plan.feature)}: ${plan.phases.length} ${plan.phases.length === 1 ? "phase" : "phases"}, ${tasks} ${tasks === 1 ? "task" : "tasks"}, planned and merged phase by phase into ${code(plan.integrationBranch)} with claude-parallel (feature ${code(slug)}, base ${code(plan.base)}).`,
  ];
  if (plan.verify) lines.push("", `The plan's verify command, which each sync runs on the merged result (unless told \`--no-verify\`): ${code(plan.verify)}.`);
  for (const phase of plan.phases) {
    const recorded = state.phases[String(phase.index)];
    lines.push("", `## Phase ${phase.index}`, "");
    if (recorded?.syncedAt) {
      lines.push(`Synced ${recorded.syncedAt}${recorded.mergedCommit ? `; ${code(plan.integrationBranch)} was then at ${code(recorded.mergedCommit.slice(0, 12))}` : ""}.`, "");
    } else {
      lines.push("Not synced.", "");
    }
    for (const task of phase.tasks) {
      const skipped = recorded?.tasks[task.id]?.skipped;
      const ran = task.verify ? await readVerifyRecord(commonDir, slug, task.id) : undefined;
      const verify = !task.verify ? "" : ran?.command === task.verify ? `; ${verifyFact(ran)}` : `; verify ${code(task.verify)}: no run recorded`;
      lines.push(`- ${code(task.id)} ${oneLine(task.title)} (branch ${code(task.branch)})${skipped ? `: skipped (${oneLine(skipped.reason)})` : ""}${verify}`);
    }
  }
  return lines.join("\n") + "\n";
}

function verifyFact(v: VerifyRecord): string {
  return `verify ${code(v.command)} ${v.exitCode === 0 ? "passed" : `failed (exit ${v.exitCode})`} at ${code(v.commit.slice(0, 12))}, ${v.ranAt}`;
}
