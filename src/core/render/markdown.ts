import { fmt, type ExecutionPlan, type PlannedPhase, type PlannedTask } from "../plan/build.js";
import { sessionBrief } from "./brief.js";
import { code, fence, list, oneLine } from "./markdown-text.js";
import { mermaidFlowchart } from "./mermaid.js";
import { quote, sh } from "../text/shell.js";

interface MarkdownOptions {
  /**
   * What `claude-parallel start` takes the first time: the slug (the default) finds the plan at
   * `.parallel/<slug>/plan.yaml`; a plan kept anywhere else is named by its path.
   */
  startTarget?: string;
}

/**
 * The Parallel Execution Plan in the seed's Output format. Each step leads with the claude-parallel
 * command that does it; the plain git commands follow, marked as the way without claude-parallel.
 */
export function renderMarkdown(plan: ExecutionPlan, options: MarkdownOptions = {}): string {
  const out: string[] = [];
  const taskCount = plan.phases.reduce((n, p) => n + p.tasks.length, 0);
  out.push(`# Parallel Execution Plan: ${oneLine(plan.feature)}`, "");
  out.push(
    `${taskCount} ${taskCount === 1 ? "task" : "tasks"} in ${plan.phases.length} ${plan.phases.length === 1 ? "phase" : "phases"}, ` +
      `at most ${plan.maxParallel} sessions at once. Base branch ${code(plan.base)}; the phases merge into ${code(plan.integrationBranch)}. ` +
      `Length ${fmt(plan.length)} (lower bound ${fmt(plan.lowerBound)}).`,
    "",
  );
  out.push(fence("mermaid", mermaidFlowchart(plan)), "");
  out.push(...renderHowTo(plan, options));
  for (const phase of plan.phases) out.push(...renderPhase(plan, phase, options));
  out.push(...renderFinalization(plan));
  out.push(...renderDecisions(plan));
  out.push("## Schedule", "");
  out.push(
    `Length ${fmt(plan.length)}: the sum over phases of each phase's longest estimate ` +
      `(${plan.phases.map((p) => fmt(p.length)).join(" + ")}). ` +
      `Lower bound ${fmt(plan.lowerBound)} = max(critical path ${fmt(plan.criticalPath)}, ` +
      `ceil(total estimate ${fmt(plan.totalEstimate)} / maxParallel ${plan.maxParallel})).`,
    "",
  );
  return out.join("\n");
}

const WITHOUT = "*Without claude-parallel:*";

/** The commands, as one shell-quoted line each. */
function startCommand(plan: ExecutionPlan, options: MarkdownOptions): string {
  return sh`claude-parallel start ${options.startTarget ?? plan.slug}`;
}
const syncCommand = (plan: ExecutionPlan) => sh`claude-parallel sync ${plan.slug}`;
const statusCommand = (plan: ExecutionPlan) => sh`claude-parallel status ${plan.slug}`;
const finishCommand = (plan: ExecutionPlan) => sh`claude-parallel finish ${plan.slug}`;

function renderHowTo(plan: ExecutionPlan, options: MarkdownOptions): string[] {
  const last = plan.phases.length;
  return [
    "How to run it, phase by phase:",
    "",
    `1. ${code(startCommand(plan, options))} starts Phase 1: it creates the phase's worktrees and branches from ${code(plan.integrationBranch)}, ` +
      "gives each session its brief and prints the command that opens it (or add `--launch tmux` or `--launch headless`).",
    `2. Each session works in its own worktree and commits on its branch. ${code("/parallel-status")} (or ${code(statusCommand(plan))}) shows where they stand.`,
    `3. At each sync point, once every session of the phase has committed: ${code("/parallel-sync")} in Claude Code (or ${code(syncCommand(plan))}) ` +
      `merges the phase into ${code(plan.integrationBranch)}${plan.verify ? `, runs ${code(plan.verify)} on the result` : ""} and starts the next phase.`,
    `4. After Phase ${last}: ${code(finishCommand(plan))} merges ${code(plan.integrationBranch)} into ${code(plan.base)}.`,
    "",
    `${WITHOUT} the plain git commands below each step do the same by hand. Run them from the repository root.`,
    "",
  ];
}

function phaseTitle(phase: PlannedPhase): string {
  const roles = [...new Set(phase.tasks.map((t) => t.role))].join(", ");
  if (phase.tasks.length === 1) return `Phase ${phase.index}: ${phase.tasks[0]!.role}`;
  return `Phase ${phase.index}: Parallel ${phase.index === 1 ? "Foundation" : "Implementation"} (${roles})`;
}

function renderPhase(plan: ExecutionPlan, phase: PlannedPhase, options: MarkdownOptions): string[] {
  const out = [`## ${phaseTitle(phase)}`, ""];
  const after = phase.index === 1 ? "" : ` after Phase ${phase.index - 1} merges`;
  out.push(phase.tasks.length === 1 ? `Run in one session${after}:` : `Run simultaneously in separate sessions${after}:`, "");

  out.push(
    phase.index === 1
      ? `**Start:** ${code(startCommand(plan, options))} creates the worktrees and branches from ${code(plan.integrationBranch)} and prints how to open each session.`
      : `**Start:** the sync of Phase ${phase.index - 1} starts it; after a sync with \`--no-next\` (or an interrupted one), ${code(sh`claude-parallel start ${plan.slug}`)} does.`,
    "",
  );
  const setup: string[] = [];
  if (phase.index === 1) {
    setup.push(sh`git rev-parse --verify --quiet ${`refs/heads/${plan.integrationBranch}`} >/dev/null || git branch -- ${plan.integrationBranch} ${plan.base}`);
  }
  for (const task of phase.tasks) setup.push(sh`git worktree add -b ${task.branch} -- ${task.worktree} ${plan.integrationBranch}`);
  out.push(`${WITHOUT} create the worktrees from ${code(plan.integrationBranch)}:`, "", fence("bash", setup.join("\n")), "");

  for (const task of phase.tasks) out.push(...renderSession(plan, task));

  const next = plan.phases[phase.index];
  const branches = phase.tasks.map((t) => t.branch);
  const what = branches.length === 1 ? `Merge ${code(branches[0]!)}` : branches.length === 2 ? `Merge both branches` : `Merge all ${branches.length} branches`;
  const then = next ? `starts Phase ${next.index}` : "leaves the feature ready to finish";
  out.push(
    `**Sync Point:** ${what} into ${code(plan.integrationBranch)} before ${next ? `Phase ${next.index}` : "finalization"}. ` +
      `When ${branches.length === 1 ? "the session has" : "every session has"} committed, run ${code("/parallel-sync")} (or ${code(syncCommand(plan))}): ` +
      `it checks ${branches.length === 1 ? "the branch" : "the branches"}, merges${plan.verify ? `, runs ${code(plan.verify)} on the result` : ""} and ${then}.`,
    "",
  );
  const merge = [sh`git switch ${plan.integrationBranch}`];
  for (const task of phase.tasks) {
    const message = `Merge ${task.branch} (${oneLine(task.title)}) into ${plan.integrationBranch} [phase ${phase.index}]`;
    merge.push(sh`git merge --no-ff -m ${message} -- ${task.branch}`);
  }
  if (plan.verify) merge.push(sh`sh -c ${plan.verify}`);
  merge.push("git switch -");
  out.push(`${WITHOUT} merge in your checkout (it must be clean):`, "", fence("bash", merge.join("\n")), "");
  return out;
}

function renderSession(plan: ExecutionPlan, task: PlannedTask): string[] {
  const output = task.produces.length ? task.produces : task.owns;
  const out = [`### Session ${task.session}: ${task.role}`, ""];
  out.push(`- Worktree: ${code(task.worktree)}`);
  out.push(`- Branch: ${code(task.branch)}`);
  out.push(`- Task: ${oneLine(task.title)}`);
  out.push(`- Output: ${output.length ? list(output) : "changes on its branch"}`);
  if (task.owns.length) out.push(`- Owns: ${list(task.owns)}`);
  if (task.consumes.length) out.push(`- Consumes: ${list(task.consumes)}`);
  if (task.dependsOn.length) out.push(`- Depends on: ${list(task.dependsOn)}`);
  if (task.verify) out.push(`- Verify: ${code(task.verify)}`);
  out.push("", fence("bash", `cd -- ${quote(task.worktree)} && ${sessionCommand(plan, task)}`), "");
  return out;
}

/** How to start the task's session in its worktree. */
export function sessionCommand(plan: ExecutionPlan, task: PlannedTask): string {
  if (task.roleKind === "command") return sh`claude ${`/${task.agent} ${task.prompt}`}`;
  const brief = sessionBrief(plan, task);
  if (task.roleKind === "agent") return sh`claude --agent ${task.agent} ${brief}`;
  return sh`claude ${brief}`;
}

function renderFinalization(plan: ExecutionPlan): string[] {
  const index = plan.phases.length + 1;
  const integration = code(plan.integrationBranch);
  return [
    `## Phase ${index}: Sequential Finalization`,
    "",
    plan.verify
      ? `- Integration testing: ${code(plan.verify)} on ${integration} (it also runs at every sync point)`
      : `- Integration testing: run the project's tests on ${integration} (add \`verify:\` to the plan to run them at every sync point)`,
    `- QA validation: review the merged feature on ${integration}`,
    `- Final merge to ${code(plan.base)}: ${code(finishCommand(plan))} (or ${code(sh`claude-parallel finish ${plan.slug} --pr`)} for the \`gh pr create\` command)`,
    "",
    `${WITHOUT} merge in your checkout (it must be clean):`,
    "",
    fence("bash", [sh`git switch ${plan.base}`, sh`git merge --no-ff -m ${`Merge ${plan.integrationBranch}: ${oneLine(plan.feature)}`} -- ${plan.integrationBranch}`].join("\n")),
    "",
  ];
}

function renderDecisions(plan: ExecutionPlan): string[] {
  if (plan.decisions.length === 0) return [];
  return ["## Decisions", "", ...plan.decisions.map((d) => `- ${d.message}`), ""];
}
