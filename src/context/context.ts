import { homedir } from "node:os";
import { basename, join } from "node:path";
import { currentPhase } from "../feature/current-phase.js";
import { readState } from "../feature/store.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { EXAMPLE_PLAN, SCHEMA_SUMMARY } from "../core/plan/example.js";
import { PLANS_DIR, plansIn } from "../feature/plan-location.js";
import { git, gitIsRecentEnough, gitVersion, locateRepo, MIN_GIT } from "../git/run.js";
import { findRoles, type Role } from "../feature/roles.js";
import { buildPlan } from "../core/plan/parse.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import { readPlanFile } from "../feature/plan-read.js";

interface ContextInput {
  cwd: string;
  /** Absolute path of the helper script, for Claude to call. */
  helperPath: string;
  nodeVersion: string;
}

/**
 * What `/parallel` needs to know about the repository, as Markdown for the prompt. Never throws:
 * a failing `!` command would abort the whole slash command, so problems are explained instead.
 */
export async function renderContext(input: ContextInput): Promise<string> {
  const out: string[] = ["# claude-parallel context", ""];
  const helper = `node ${JSON.stringify(input.helperPath)}`;
  try {
    out.push(...(await repositorySection(input)));
  } catch (error) {
    out.push(`Problem: could not inspect the repository (${(error as Error).message}).`, "");
  }
  out.push(
    "## Helper",
    "",
    `Absolute path: ${input.helperPath}`,
    `Validate and render a plan: ${helper} plan .parallel/<slug>/plan.yaml`,
    `JSON Schema of the plan file: ${helper} schema`,
    "",
    "## Plan format",
    "",
    SCHEMA_SUMMARY,
    "",
    "Worked example:",
    "",
    "```yaml",
    EXAMPLE_PLAN.trimEnd(),
    "```",
    "",
  );
  return out.join("\n");
}

async function repositorySection(input: ContextInput): Promise<string[]> {
  const out = ["## Repository", ""];
  // All four git processes at once: status and the worktree list work from any folder of the
  // repository, and are not used when there is none.
  const looking = Promise.all([git(["--no-optional-locks", "status", "--porcelain", "--untracked-files=normal"], input.cwd), git(["worktree", "list", "--porcelain"], input.cwd)]);
  looking.catch(() => undefined); // not awaited outside a repository
  const [version, repo] = await Promise.all([gitVersion(input.cwd), locateRepo(input.cwd)]);
  const problems: string[] = [];
  if (!version) problems.push("git is not installed or cannot be run: install git 2.38 or newer.");
  else if (!gitIsRecentEnough(version)) {
    problems.push(`git ${version.text} is too old: claude-parallel needs git ${MIN_GIT.join(".")} or newer (for \`git merge-tree --write-tree\`). Upgrade git.`);
  }
  const nodeMajor = Number(/^v?(\d+)/.exec(input.nodeVersion)?.[1] ?? 0);
  if (nodeMajor < 20) problems.push(`Node ${input.nodeVersion} is too old: the helper needs Node 20 or newer.`);
  if (!repo) {
    problems.push(
      `${input.cwd} is not inside a git repository. Parallel sessions each work in a git worktree, so the feature needs a repository: run \`git init\` and make a first commit, or open Claude Code in your project.`,
    );
    out.push(`- Folder: ${input.cwd}`, "");
    return [...out, ...problemLines(problems)];
  }

  const [[status, worktrees], roles, plans] = await Promise.all([looking, findRoles(repo.root), listPlans(repo.root, repo.branch, repo.commonDir)]);
  if (!repo.hasCommit) {
    problems.push("The repository has no commit yet: worktrees start from a commit. Make a first commit (for example `git add -A && git commit -m 'Initial commit'`), then plan.");
  }
  // The plans themselves (.parallel/) are not work the sessions miss: they need not be committed.
  const changes = status.stdout ? status.stdout.split("\n").filter((line) => !/^.. "?\.parallel\//.test(line)).length : 0;
  out.push(
    `- Name: ${basename(repo.root)}`,
    `- Root: ${repo.root}`,
    `- Current branch: ${repo.branch ?? "(detached HEAD: set `base:` in the plan)"}`,
    `- Working tree: ${changes === 0 ? "clean" : `${changes} uncommitted ${changes === 1 ? "change" : "changes"} (sessions start from commits: commit what they should see)`}; plans in ${PLANS_DIR}/ need not be committed`,
    `- git ${version?.text ?? "missing"}, Node ${input.nodeVersion}`,
    "",
    "## Worktrees",
    "",
    ...parseWorktrees(worktrees.stdout).map((w) => `- ${w.path} (${w.branch ?? "detached"})`),
    "",
    "## Existing plans",
    "",
    ...(plans.length ? plans : ["(none)"]),
    "",
    "## Roles defined in this repository",
    "",
    ...(roles.length ? roles.map(describeRole) : ["(none: sessions get a written brief instead of a role command)"]),
    "",
  );
  return [...out, ...problemLines(problems)];
}

/** Where a feature stands, in a few words. */
function progress(state: FeatureState | undefined, plan: ExecutionPlan): string {
  if (!state) return "not started";
  if (state.finishedAt) return "finished (merged into its base)";
  const phases = plan.phases.length;
  const synced = Object.values(state.phases).filter((p) => p.syncedAt).length;
  const current = currentPhase(state, plan);
  if (current && state.phases[String(current.index)]) return `phase ${current.index} of ${phases} in progress (${synced} synced)`;
  return synced === phases ? "every phase synced; ready to finish" : `${synced} of ${phases} phases synced`;
}

function problemLines(problems: string[]): string[] {
  return problems.length ? ["## Problems", "", ...problems.map((p) => `- ${p}`), ""] : [];
}

function describeRole(role: Role): string {
  const how = role.kind === "command" ? `command /${role.name}` : `agent ${role.name}`;
  return `- ${role.name}: ${how} (${role.file})${role.description ? `: ${role.description}` : ""}`;
}

function parseWorktrees(porcelain: string): Array<{ path: string; branch?: string }> {
  const list: Array<{ path: string; branch?: string }> = [];
  for (const line of porcelain.split("\n")) {
    if (line.startsWith("worktree ")) list.push({ path: line.slice("worktree ".length) });
    else if (line.startsWith("branch ") && list.length) list[list.length - 1]!.branch = line.slice("branch refs/heads/".length);
  }
  return list;
}

async function listPlans(root: string, branch: string | undefined, commonDir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const slug of await plansIn(root)) {
    const file = join(PLANS_DIR, slug, "plan.yaml");
    try {
      const loaded = await readPlanFile(join(root, file), file);
      const plan = await buildPlan(loaded, { repoName: basename(root), currentBranch: branch, roles: new Map(), planFolder: slug, root, gitCommonDir: commonDir, home: homedir() });
      const tasks = plan.phases.reduce((n, p) => n + p.tasks.length, 0);
      lines.push(`- ${file}: valid, "${plan.feature}", ${tasks} tasks in ${plan.phases.length} phases; ${progress(await readState(commonDir, plan.slug).catch(() => undefined), plan)}`);
    } catch (error) {
      lines.push(`- ${file}: invalid: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  return lines;
}
