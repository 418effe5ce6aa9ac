import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError, ExitCode, ProcessError, RefusedError } from "../errors.js";
import type { FeatureState } from "../feature/state-schema.js";
import { commitOf } from "../git/repo.js";
import { pushRemote } from "../git/push.js";
import { git } from "../git/run.js";
import type { ExecutionPlan } from "../plan/build.js";
import { run } from "../proc.js";
import { code, oneLine } from "../render/markdown-text.js";
import { quote, sh } from "../render/shell.js";
import { readVerifyRecord, type VerifyRecord } from "../status/verify.js";
import type { Io } from "../io.js";

export interface PrContext {
  commonDir: string;
  /** Where git and gh run: the repository's main checkout. */
  mainRoot: string;
  slug: string;
  plan: ExecutionPlan;
  state: FeatureState;
}

/**
 * `finish --pr`: pushes the integration branch to the base branch's remote and opens a pull
 * request of it into base with gh, or prints the commands when gh cannot do it here. Nothing is
 * merged locally and the feature is not recorded as finished (that happens when base holds it).
 */
export async function finishWithPullRequest(ctx: PrContext, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { mainRoot, plan, slug } = ctx;
  const branch = plan.integrationBranch;
  const ref = `refs/heads/${branch}`;
  const tip = await commitOf(ref, mainRoot);
  if (!tip) throw new RefusedError([{ message: `branch \`${branch}\` is missing`, fix: "restore it (git reflog, refs/parallel/) and run finish --pr again" }]);
  const remote = await pushRemote(mainRoot, plan.base, `${slug}'s integration branch`, sh`claude-parallel finish ${slug} --pr`);
  const refspec = `${ref}:${ref}`;
  const pushArgs = ["push", "--", remote, refspec];

  // Already there (the CI job that published it, or an earlier finish --pr): nothing to push, and
  // no write access needed for it.
  const there = await git(["ls-remote", "--refs", "--", remote, ref], mainRoot);
  if (there.exitCode === 0 && there.stdout.split("\t")[0] === tip) say(`${remote} has ${branch} at ${tip.slice(0, 12)} already.`);
  else {
    say(`Pushing ${branch} (${tip.slice(0, 12)}) to the remote ${remote}, as ${ref} there.`);
    const pushed = await git(pushArgs, mainRoot);
    if (pushed.exitCode !== 0) throw new ProcessError({ file: "git", args: pushArgs, cwd: mainRoot, exitCode: pushed.exitCode, stderr: pushed.stderr || pushed.stdout });
    // What the remote says (a hosting service's link to open a pull request, a warning) is for the user.
    for (const line of pushed.stderr.split("\n")) if (line.startsWith("remote:") && line.slice(7).trim()) say(line);
    say(`Pushed ${branch} to ${remote}.`);
  }

  const title = oneLine(plan.feature);
  const body = await prBody(ctx);
  const folder = await mkdtemp(join(tmpdir(), "claude-parallel-pr-"));
  const bodyFile = join(folder, "body.md");
  await writeFile(bodyFile, body);
  const ghArgs = ["pr", "create", "--base", plan.base, "--head", branch, "--title", title, "--body-file", bodyFile];
  const gh = await ghReady(mainRoot);
  const ghEnv = { cwd: mainRoot, env: { GH_PROMPT_DISABLED: "1", NO_COLOR: "1" } };
  if (gh === "ready") {
    try {
      const open = await run("gh", ["pr", "list", "--head", branch, "--base", plan.base, "--state", "open", "--json", "url", "--jq", ".[0].url"], ghEnv);
      if (open.exitCode === 0 && /^https?:\/\/\S+$/.test(open.stdout.trim())) {
        say(`The pull request of ${branch} into ${plan.base} is open already: ${open.stdout.trim()}`);
        return ExitCode.ok;
      }
      const created = await run("gh", ghArgs, ghEnv);
      if (created.exitCode !== 0 || created.spawnError) {
        const said = `${created.stderr}${created.stdout}`.trim();
        throw new EnvironmentError(
          `gh could not open the pull request of ${branch} into ${plan.base}${said ? `: ${said.split("\n").slice(-3).join(" / ")}` : ""}`,
          /not permitted to create or approve pull requests/i.test(said)
            ? "allow it in the repository's Settings > Actions > General (\"Allow GitHub Actions to create and approve pull requests\"), or give the job a token of yours (the secret CLAUDE_PARALLEL_PR_TOKEN), then run finish --pr again"
            : `run it again; the branch is pushed, so ${sh`gh pr create --base ${plan.base} --head ${branch}`} also opens it`,
        );
      }
      const url = /https?:\/\/\S+/.exec(created.stdout)?.[0] ?? created.stdout.trim();
      say(`Opened the pull request of ${branch} into ${plan.base}: ${url}`);
      say(`Hand its failing checks and review comments to the sessions: claude-parallel watch ${quote(slug)}`);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    say(`When it is merged: claude-parallel clean ${quote(slug)} removes the feature's worktrees, branches and state.`);
    return ExitCode.ok;
  }
  // In CI nobody reads the printed commands: a pull request that was not opened is a failure.
  if (process.env.GITHUB_ACTIONS === "true") {
    await rm(folder, { recursive: true, force: true });
    throw new EnvironmentError(
      gh === "missing" ? "gh (GitHub CLI) is not installed on this runner, so the pull request was not opened" : "gh (GitHub CLI) is not logged in (`gh auth status` failed: no GH_TOKEN?), so the pull request was not opened",
      gh === "missing" ? "install gh on the runner (GitHub's hosted runners have it)" : "give the step GH_TOKEN (the workflow ci init writes does), then re-run the job",
    );
  }
  // The body file stays for the printed command.
  say(
    gh === "missing"
      ? "gh (GitHub CLI) is not installed, so the pull request was not opened."
      : "gh (GitHub CLI) is not logged in (`gh auth status` failed), so the pull request was not opened: run `gh auth login` first.",
  );
  say("Open it with these commands, in the repository (the first pushes again, after new commits):");
  say(`  ${sh`git push ${remote} ${refspec}`}`);
  say(`  ${sh`gh pr create --base ${plan.base} --head ${branch} --title ${title} --body-file ${bodyFile}`}`);
  say(`When it is merged: claude-parallel clean ${quote(slug)} removes the feature's worktrees, branches and state.`);
  return ExitCode.ok;
}

/** Whether gh can open the pull request here: installed, and logged in. */
async function ghReady(cwd: string): Promise<"ready" | "missing" | "logged-out"> {
  const r = await run("gh", ["auth", "status"], { cwd, env: { GH_PROMPT_DISABLED: "1", NO_COLOR: "1" } });
  if (r.spawnError) return "missing";
  return r.exitCode === 0 ? "ready" : "logged-out";
}

/** The pull request's description: the phases, their tasks, and what the state knows of each sync and verify run. */
export async function prBody({ commonDir, slug, plan, state }: PrContext): Promise<string> {
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
