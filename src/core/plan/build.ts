import { posix } from "node:path";
import { InputError, type Problem } from "../errors.js";
import { bottomLevels, dependencyGraph, graphFromEdges, reaches, type Edge } from "./graph.js";
import type { LoadedPlan } from "./load.js";
import { SLUG_MAX, SLUG_PATTERN, repoLabel, roleTitle, sessionLabel, slugify, taskBranch, taskWorktree } from "./names.js";
import { findOverlaps } from "./owns.js";
import { criticalPath, lowerBound, schedulePhases } from "./schedule.js";
import type { Plan } from "./schema.js";

/** How a branch is merged: the strategy and `-X` options given to `git merge-tree` (and `git merge`). */
export type MergeSettings = NonNullable<Plan["merge"]>;

/** How the repository lets a session take on a role. */
export type RoleKind = "command" | "agent";

/** Facts about the repository the plan runs in (gathered by the effects layer). */
export interface RepoFacts {
  /** Basename of the repository root. */
  repoName: string;
  /** Branch checked out in the current worktree; undefined when HEAD is detached or no repo. */
  currentBranch?: string;
  /** Roles defined under `.claude/commands` and `.claude/agents`, by name. */
  roles: ReadonlyMap<string, RoleKind>;
  /** `<folder>` when the plan file is `.parallel/<folder>/plan.yaml`: the feature's slug by default. */
  planFolder?: string;
  /** Absolute path of the repository's work tree root; worktreeRoot must resolve outside it. Unchecked when absent. */
  root?: string;
  /** Absolute path of the git directory shared by all worktrees; worktreeRoot must resolve outside it. Unchecked when absent. */
  gitCommonDir?: string;
  /** The user's home folder, for a worktreeRoot of `~` or `~/...`. */
  home?: string;
}

export interface PlannedTask {
  id: string;
  agent: string;
  /** The agent as a heading: "Backend", "QA". */
  role: string;
  title: string;
  prompt: string;
  /** Every task this one waits for: explicit, through a contract, or through shared files. */
  dependsOn: string[];
  owns: string[];
  produces: string[];
  consumes: string[];
  verify?: string;
  estimate: number;
  /** Limits of the task's sessions (the task's own, else the plan's): turns on GitHub Actions, dollars there and in `run`. */
  maxTurns?: number;
  budgetUsd?: number;
  branch: string;
  worktree: string;
  /** 1-based. */
  phase: number;
  /** "A", "B", ... within the phase. */
  session: string;
  /** Whether the repository defines a command or agent named like the task's agent. */
  roleKind?: RoleKind;
  /** How its branch is merged: its own `merge`, else the plan's; absent: ort, no options. */
  merge?: MergeSettings;
}

export interface PlannedPhase {
  /** 1-based. */
  index: number;
  tasks: PlannedTask[];
  /** The longest estimate in the phase. */
  length: number;
}

type Decision =
  | { kind: "ownership-order"; tasks: [string, string]; paths: [string, string]; example: string; message: string }
  | { kind: "contract-dependency"; tasks: [string, string]; paths: [string]; message: string }
  | { kind: "deferred"; tasks: [string]; message: string }
  | { kind: "no-owns"; tasks: [string]; message: string };

export interface ExecutionPlan {
  feature: string;
  slug: string;
  base: string;
  integrationBranch: string;
  repo: string;
  worktreeRoot: string;
  maxParallel: number;
  verify?: string;
  /** What a task session's PreToolUse hook answers for a file the task does not own (src/hooks/). */
  enforceOwns?: "deny" | "ask" | "off";
  /** How finish merges the integration branch into base (and each task's default). */
  merge?: MergeSettings;
  /** Whether the sessions we launch run Bash in Claude Code's sandbox (src/session/sandbox.ts); absent: auto. */
  sandbox?: "auto" | "on" | "off";
  /** The most dollars all the feature's sessions may spend (`run` pauses there and asks). */
  featureBudgetUsd?: number;
  /** Where `run` sends its notifications, besides its --notify targets (src/notify/). */
  notify?: NonNullable<Plan["notify"]>;
  /** The reviewer gate between a phase's verify and its publishing (src/review/). */
  review?: NonNullable<Plan["review"]>;
  phases: PlannedPhase[];
  decisions: Decision[];
  length: number;
  lowerBound: number;
  criticalPath: number;
  totalEstimate: number;
}

/**
 * Turns a validated plan into phases of sessions. Pure: every fact about the outside world
 * arrives in `facts`.
 */
export function buildExecutionPlan({ plan, source }: LoadedPlan, facts: RepoFacts): ExecutionPlan {
  const graph = dependencyGraph(plan, source);
  const folderSlug = facts.planFolder !== undefined && SLUG_PATTERN.test(facts.planFolder) && facts.planFolder.length <= SLUG_MAX ? facts.planFolder : undefined;
  if (plan.slug !== undefined && folderSlug !== undefined && plan.slug !== folderSlug) {
    throw new InputError({
      where: `${source.locate(["slug"])} (slug)`,
      message: `the plan is in .parallel/${folderSlug}/ but its slug is \`${plan.slug}\``,
      fix: `a feature's files live in .parallel/<slug>/: write \`slug: ${folderSlug}\` or move the plan to .parallel/${plan.slug}/`,
    });
  }
  const slug = plan.slug ?? folderSlug ?? slugify(plan.feature);
  const base = plan.base ?? facts.currentBranch;
  if (base === undefined) {
    throw new InputError({
      where: `${source.file} (base)`,
      message: "the plan has no `base` and there is no current branch to default to (HEAD is detached or this is not a git repository)",
      fix: "add `base: main` (the branch the feature starts from) to the plan, or check out that branch",
    });
  }
  const integrationBranch = plan.integrationBranch ?? `feature/${slug}`;
  const branchOf = (id: string) => taskBranch(integrationBranch, id);
  if (base === integrationBranch) {
    throw new InputError({
      where: `${source.locate(["integrationBranch"])} (integrationBranch)`,
      message: `integrationBranch and base are both \`${base}\``,
      fix: "the feature collects its work on its own branch: remove integrationBranch to get `feature/<slug>`",
    });
  }
  const branchProblems = branchClashes([
    { name: base, what: "the plan's base", where: `${source.locate(["base"])} (base)` },
    { name: integrationBranch, what: "the plan's integrationBranch", where: `${source.locate(["integrationBranch"])} (integrationBranch)` },
    ...plan.tasks.map((task, i) => ({ name: branchOf(task.id), what: `task \`${task.id}\`'s branch`, where: () => `${source.locate(["tasks", i, "id"])} (tasks[${i}].id)` })),
  ]);
  if (branchProblems.length) throw new InputError(branchProblems);
  const worktreeRoot = resolveWorktreeRoot(plan.worktreeRoot, facts, `${source.locate(["worktreeRoot"])} (worktreeRoot)`);

  const ids = graph.ids;
  const decisions: Decision[] = [];

  for (const edge of graph.edges) {
    if (edge.reason.kind !== "contract") continue;
    const explicit = plan.tasks[edge.to]!.dependsOn.includes(ids[edge.from]!);
    if (explicit) continue;
    decisions.push({
      kind: "contract-dependency",
      tasks: [ids[edge.from]!, ids[edge.to]!],
      paths: [edge.reason.path],
      message: `\`${ids[edge.to]}\` waits for \`${ids[edge.from]}\`: it consumes \`${edge.reason.path}\`, which \`${ids[edge.from]}\` produces.`,
    });
  }

  // Tasks that may change the same files must not run side by side: order each such pair, the
  // one with the longer remaining critical path first. Ordering by (level, plan order) is a total
  // order that every dependency already follows, so the added edges cannot make a cycle.
  const levels = bottomLevels(graph);
  const before = (a: number, b: number) => (levels[a] !== levels[b] ? levels[a]! > levels[b]! : a < b);
  const overlaps = findOverlaps(plan.tasks.map((t, i) => ({ owner: i, patterns: [...t.owns, ...t.produces] })));
  const ordering: Edge[] = [];
  for (const o of overlaps.sort((x, y) => x.a - y.a || x.b - y.b)) {
    if (reaches(graph, o.a, o.b) || reaches(graph, o.b, o.a)) continue;
    const [first, second] = before(o.a, o.b) ? [o.a, o.b] : [o.b, o.a];
    const [firstPattern, secondPattern] = first === o.a ? [o.aPattern, o.bPattern] : [o.bPattern, o.aPattern];
    ordering.push({ from: first, to: second, reason: { kind: "ownership", example: o.example } });
    const why =
      levels[first] === levels[second]
        ? `equal remaining critical paths (${fmt(levels[first]!)}), so plan order decides`
        : `longer remaining critical path: ${fmt(levels[first]!)} vs ${fmt(levels[second]!)}`;
    decisions.push({
      kind: "ownership-order",
      tasks: [ids[first]!, ids[second]!],
      paths: [firstPattern, secondPattern],
      example: o.example,
      message:
        `\`${ids[first]}\` (owns \`${firstPattern}\`) and \`${ids[second]}\` (owns \`${secondPattern}\`) may both change ` +
        `\`${o.example}\`, so they never share a phase: \`${ids[first]}\` goes first (${why}) and ` +
        `\`${ids[second]}\` starts from its merged work.`,
    });
  }
  const ordered = ordering.length ? graphFromEdges(ids, graph.estimates, [...graph.edges, ...ordering]) : graph;

  const schedule = schedulePhases(ordered, plan.maxParallel);
  const phaseOf = new Array<number>(ids.length);
  schedule.phases.forEach((phase, k) => phase.forEach((i) => (phaseOf[i] = k)));

  // Say why a task starts later than its dependencies would allow.
  schedule.phases.forEach((phase, k) => {
    for (const i of phase) {
      let earliest = 0;
      for (const p of ordered.predecessors[i]!) if (phaseOf[p]! + 1 > earliest) earliest = phaseOf[p]! + 1;
      if (earliest >= k) continue;
      const full = schedule.phases[earliest]!.length >= plan.maxParallel;
      decisions.push({
        kind: "deferred",
        tasks: [ids[i]!],
        message: full
          ? `\`${ids[i]}\` could start in phase ${earliest + 1} but runs in phase ${k + 1}: phase ${earliest + 1} already has ${plan.maxParallel} sessions (maxParallel).`
          : `\`${ids[i]}\` could start in phase ${earliest + 1} but runs in phase ${k + 1}, beside tasks of similar size, which shortens the plan.`,
      });
    }
  });
  plan.tasks.forEach((task) => {
    if (task.owns.length === 0 && task.produces.length === 0) {
      decisions.push({
        kind: "no-owns",
        tasks: [task.id],
        message: `\`${task.id}\` owns no paths, so overlaps with other tasks cannot be checked; list the files it will change under \`owns\`.`,
      });
    }
  });

  const repo = repoLabel(facts.repoName);
  const phases: PlannedPhase[] = schedule.phases.map((phase, k) => {
    const tasks = [...phase]
      .sort((a, b) => levels[b]! - levels[a]! || a - b)
      .map((i, s): PlannedTask => {
        const task = plan.tasks[i]!;
        const agent = task.agent ?? task.id;
        return {
          id: task.id,
          agent,
          role: roleTitle(agent),
          title: task.title,
          prompt: task.prompt ?? task.title,
          dependsOn: ordered.predecessors[i]!.map((p) => ids[p]!).sort(),
          owns: task.owns,
          produces: task.produces,
          consumes: task.consumes,
          verify: task.verify,
          estimate: task.estimate,
          maxTurns: task.maxTurns ?? plan.maxTurns,
          budgetUsd: task.budgetUsd ?? plan.budgetUsd,
          branch: branchOf(task.id),
          worktree: taskWorktree(worktreeRoot, repo, slug, task.id),
          phase: k + 1,
          session: sessionLabel(s),
          roleKind: facts.roles.get(agent),
          ...((task.merge ?? plan.merge) && { merge: task.merge ?? plan.merge }),
        };
      });
    return { index: k + 1, tasks, length: Math.max(...tasks.map((t) => t.estimate)) };
  });

  return {
    feature: plan.feature,
    slug,
    base,
    integrationBranch,
    repo,
    worktreeRoot,
    maxParallel: plan.maxParallel,
    verify: plan.verify,
    enforceOwns: plan.enforceOwns,
    ...(plan.merge && { merge: plan.merge }),
    ...(plan.sandbox !== undefined && { sandbox: plan.sandbox }),
    ...(plan.featureBudgetUsd !== undefined && { featureBudgetUsd: plan.featureBudgetUsd }),
    ...(plan.notify?.length && { notify: plan.notify }),
    ...(plan.review && { review: plan.review }),
    phases,
    decisions,
    length: schedule.length,
    lowerBound: lowerBound(graph, plan.maxParallel),
    criticalPath: criticalPath(graph),
    totalEstimate: graph.estimates.reduce((a, b) => a + b, 0),
  };
}

/**
 * Branches that git could not hold side by side: the same name twice, or one name a folder of
 * another (`main` and `main/integration`: refs are files, so `refs/heads/main` cannot be both a
 * file and a folder). Linear in the total length of the names.
 */
function branchClashes(branches: ReadonlyArray<{ name: string; what: string; where: string | (() => string) }>): Problem[] {
  const byName = new Map<string, { name: string; what: string; where: string | (() => string) }>();
  const whereOf = (b: { where: string | (() => string) }) => (typeof b.where === "string" ? b.where : b.where());
  const problems: Problem[] = [];
  for (const b of branches) {
    const same = byName.get(b.name);
    if (same) {
      problems.push({ where: whereOf(b), message: `${b.what} would be \`${b.name}\`, which is already ${same.what}`, fix: "rename the task or change the plan's branches" });
    } else byName.set(b.name, b);
  }
  for (const b of byName.values()) {
    for (let at = b.name.indexOf("/"); at > 0; at = b.name.indexOf("/", at + 1)) {
      const folder = byName.get(b.name.slice(0, at));
      if (!folder) continue;
      // Said once: when a branch lies under a folder, so do the ones named after it.
      if (branches.some((other) => other !== b && other.name !== folder.name && b.name.startsWith(other.name) && other.name.startsWith(folder.name + "/"))) continue;
      problems.push({
        where: whereOf(b),
        message: `${b.what} \`${b.name}\` lies under ${folder.what} \`${folder.name}\`: git cannot have a branch that is also a folder of branches`,
        fix:
          b.what === "the plan's base"
            ? `choose an integrationBranch that \`${b.name}\` does not continue with '/', like \`feature/<slug>\``
            : "name the integration branch beside the base, not under it: remove integrationBranch to get `feature/<slug>`",
      });
    }
  }
  return problems;
}

/**
 * The folder of the task worktrees: `~` and `~/...` expanded to the home folder, and checked to lie
 * outside the repository's work tree and git directory (worktrees inside them would be files of
 * the repository, or inside git's own data) and not to be the filesystem root. Pure: the paths
 * come from `facts`, and a check whose path is absent is skipped.
 */
function resolveWorktreeRoot(written: string, facts: RepoFacts, where: string): string {
  let root = written;
  if (written === "~" || written.startsWith("~/")) {
    if (facts.home === undefined || !posix.isAbsolute(facts.home)) {
      throw new InputError({ where, message: "worktreeRoot starts with `~`, but the home folder is not known", fix: "write the folder's full path" });
    }
    root = posix.join(facts.home, written.slice(1));
  } else if (written.startsWith("~")) {
    throw new InputError({
      where,
      message: `worktreeRoot ${JSON.stringify(written)} names another user's home folder, which is not expanded`,
      fix: "write the folder's full path, or `~/...` for your own home folder",
    });
  }
  const besides = "use a folder beside the repository: `..` (the default) or something like `../worktrees`";
  const absolute = facts.root !== undefined ? posix.resolve(facts.root, root) : posix.isAbsolute(root) ? posix.normalize(root) : undefined;
  if (absolute === "/") throw new InputError({ where, message: "worktreeRoot is the filesystem root `/`", fix: besides });
  const inside = (folder: string | undefined) => folder !== undefined && absolute !== undefined && (absolute === folder || absolute.startsWith(folder.replace(/\/+$/, "") + "/"));
  if (inside(facts.root)) {
    throw new InputError({
      where,
      message: `worktreeRoot ${JSON.stringify(written)} is ${absolute === facts.root ? "" : "inside "}the repository's work tree (${facts.root}); the task worktrees would be files of the repository`,
      fix: besides,
    });
  }
  if (inside(facts.gitCommonDir)) {
    throw new InputError({ where, message: `worktreeRoot ${JSON.stringify(written)} is inside the repository's git directory (${facts.gitCommonDir})`, fix: besides });
  }
  return root;
}

/** Numbers as people write them: 3, 2.5, not 2.5000000001. */
export function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}
