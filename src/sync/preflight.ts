import { git, gitOk, nulFields } from "../git/run.js";
import { uncommittedPaths } from "../git/status.js";
import { refTips, type Repo } from "../git/repo.js";
import { mergeChain, once } from "../merge/merge-chain.js";
import { branchHistory } from "../git/branch-history.js";
import { RefusedError } from "../core/errors.js";
import { quote, sh } from "../core/text/shell.js";
import type { ExecutionPlan, PlannedPhase, PlannedTask } from "../core/plan/build.js";
import { claudeConfigRefusal, unnamedClaudeConfig } from "../core/plan/claude-config.js";
import { octopusRefusal, rewriteWithout } from "../core/render/owns-refusal.js";
import { covers, ownedPattern } from "../core/plan/owns.js";
import { runVerify } from "../session/verify.js";
import { featureRefsFolder, verifyLogPath } from "../core/state/paths.js";
import { decideFeatureRefs, refCommits, refuseFindings } from "../feature/backstop.js";
import type { ExpectedRefs, RefFinding } from "../core/decide/decide-refs.js";
import type { Preflight, SyncProblem } from "../core/decide/merge-facts.js";

interface TaskCheck {
  task: PlannedTask;
  tip: string;
  worktree?: string;
}

/**
 * Everything the sync checks before it changes anything: each task's worktree is clean, its
 * branch has commits, it stayed inside its owned paths, its verify passes; then the phase's
 * branches are merged one after another in memory (merge-tree, then commit-tree: objects only,
 * no ref and no checkout moves), naming every conflicting file, where each side's version came
 * from and the fix.
 */
export async function preflight(
  repo: Repo,
  plan: ExecutionPlan,
  phase: PlannedPhase,
  options: {
    slug: string;
    startCommit: string;
    /** Per task, the commit its branch started from when it is not the phase's (`run --rolling`). */
    taskStarts?: Readonly<Record<string, string | undefined>>;
    worktrees: Record<string, string | undefined>;
    allowOutsideOwns: boolean;
    /**
     * Run each task's verify: with its first port in its environment, and confined to its worktree
     * (its tests are its session's code) when `confined`.
     */
    runVerify?: { confined: boolean; ports: Readonly<Record<string, number | undefined>> };
    skipped?: ReadonlySet<string>;
    /** Where the integration branch and the backup refs must be: any other place refuses (src/feature/backstop.ts). */
    expected?: ExpectedRefs;
  },
): Promise<Preflight> {
  const cwd = repo.root;
  const problems: SyncProblem[] = [];
  const tasks = phase.tasks.filter((t) => !options.skipped?.has(t.id));
  // Every tip, and the feature's backup refs, at once: one for-each-ref.
  const { tips: found, under } = await refTips(cwd, [plan.integrationBranch, ...tasks.map((t) => t.branch)], options.expected ? [featureRefsFolder(options.slug)] : []);
  const integrationTip = found.get(plan.integrationBranch)?.commit;
  // A moved integration branch or backup refuses before any task is checked (or its verify run);
  // with a recorded tip, a missing integration branch is named with where it was.
  if (options.expected) await refuseFindings(cwd, options.slug, await decideFeatureRefs(cwd, options.expected, refCommits(options.expected, integrationTip, under)), options.expected.journalDamaged);
  if (!integrationTip)
    throw new RefusedError([{ message: `the integration branch ${plan.integrationBranch} is missing`, fix: "restore it (git reflog, or the backup refs under refs/parallel/) and sync again" }]);
  const checks: TaskCheck[] = [];
  const tips = tasks.map((task) => found.get(task.branch)?.commit);
  // Each task's commits and own changes: one `git log` of every branch per start commit (one in a
  // phased run, where every task starts from the phase's start).
  const named = [{ commit: integrationTip, branch: plan.integrationBranch }, ...tasks.flatMap((task, i) => (tips[i] === undefined ? [] : [{ commit: tips[i], branch: task.branch, task: task.id }]))];
  const heads = named.map((n) => n.commit);
  const historyFrom = once((start: string) => branchHistory(cwd, start, heads, { named }));
  // Each task's checks are independent: run them side by side, keep the phase's order.
  const results = await Promise.all(
    tasks.map(async (task, i) => {
      const found: SyncProblem[] = [];
      const tip = tips[i];
      const worktree = options.worktrees[task.id];
      const startCommit = options.taskStarts?.[task.id] ?? options.startCommit;
      if (!tip) {
        found.push({ task: task.id, kind: "missing", message: `its branch \`${task.branch}\` is missing`, fix: "restore the branch (git reflog) or re-run start for this phase" });
        return { found };
      }
      const [history, dirty] = await Promise.all([historyFrom(startCommit), worktree ? uncommittedPaths(worktree) : Promise.resolve([])]);
      // Measured from its start, a branch that no longer holds it would pass for work of its own.
      if (!history.holds(tip, startCommit)) {
        const offStart: RefFinding = { kind: "off-start", ref: `refs/heads/${task.branch}`, task: task.id, expected: startCommit, actual: tip, ...(worktree !== undefined && { worktree }) };
        return { found, offStart };
      }
      const committed = history.ahead(tip) > 0;
      if (!committed) {
        // A session that switched its worktree to another branch committed there, if anywhere: say which.
        const head = worktree ? await git(["symbolic-ref", "-q", "HEAD"], worktree) : undefined;
        const checkedOut = head?.exitCode === 0 ? head.stdout.trim() : head ? "a detached HEAD" : undefined;
        const elsewhere = checkedOut !== undefined && checkedOut !== `refs/heads/${task.branch}` ? checkedOut.replace(/^refs\/heads\//, "") : undefined;
        found.push({
          task: task.id,
          kind: "no-commit",
          message: `its branch has no commit beyond the phase's start${elsewhere ? ` (its worktree has ${elsewhere} checked out, not ${task.branch})` : ""}`,
          fix: elsewhere
            ? `in ${quote(worktree!)}: git switch ${quote(task.branch)}, then bring the work over (git merge or cherry-pick from ${quote(elsewhere)}) and commit`
            : `commit the task's work on ${task.branch}; if it has nothing to do, skip it: claude-parallel skip ${quote(task.id)} ${quote(options.slug)} --reason '...'`,
        });
      }
      if (dirty.length) {
        found.push({
          task: task.id,
          kind: "dirty",
          message: `its worktree has uncommitted changes: ${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? ", ..." : ""}`,
          fix: `in ${worktree}, commit them (or discard what should not be kept)`,
        });
      }
      const owned = [...task.owns, ...task.produces].map(ownedPattern);
      const siblings = tips.filter((t, k): t is string => k !== i && t !== undefined);
      const own = history.ownChanges(tip, siblings, integrationTip);
      const outside = owned.length && !options.allowOutsideOwns ? [...own].filter((f) => !owned.some((p) => covers(p, f))).sort() : [];
      // Checked even with --allow-outside-owns, and for a task that owns nothing.
      const config = unnamedClaudeConfig(own, owned);
      // One rewrite clears both: without those files, and without what its merges brought (the
      // files that differ from its start that it did not change itself), which would become its own.
      const merged = outside.length || config.length ? nulFields(await gitOk(["diff", "--name-only", "-z", "--no-renames", startCommit, tip, "--"], cwd)).filter((f) => !own.has(f)) : [];
      const rewriting = rewriteWithout([...outside, ...config.map((c) => c.path)], merged, startCommit, task.branch, worktree);
      if (outside.length) {
        found.push({
          task: task.id,
          kind: "outside-owns",
          message: `it changed files it does not own: ${outside.join(", ")}${inMergesText(outside, history.changedInMerges(tip, siblings, integrationTip))}`,
          fix: `no commit of the task may change them (a later commit that undoes a change does not clear this): rewrite its branch, ${rewriting}; or move those changes to the task that owns them, or widen its \`owns\` in the plan and apply that with claude-parallel replan ${quote(options.slug)}, or sync with --allow-outside-owns`,
          rewrite: rewriting,
        });
      }
      if (config.length) found.push({ task: task.id, kind: "outside-owns", ...claudeConfigRefusal(config, options.slug, rewriting), rewrite: rewriting });
      // Neither check can see into them: refused like unnamed configuration, whatever the task owns.
      const octopus = history.octopusMerges(tip, siblings, integrationTip);
      if (octopus.length) found.push({ task: task.id, kind: "outside-owns", ...octopusRefusal(octopus, task.branch, tip, worktree) });
      // No commit yet: its verify would only test the phase's start, not the task's work.
      if (task.verify && options.runVerify && committed) {
        // Run here, never taken from a record: the session could have written a passing one.
        const fresh = worktree ? await runVerify(repo.commonDir, options.slug, task.id, worktree, task.verify, tip, options.runVerify.ports[task.id], options.runVerify.confined) : undefined;
        if (fresh && fresh.exitCode !== 0) {
          const tail = fresh.outputTail.split("\n").filter(Boolean).slice(-3).join(" / ");
          const log = verifyLogPath(repo.commonDir, options.slug, task.id);
          found.push({
            task: task.id,
            kind: "task-verify",
            tail: fresh.outputTail,
            log,
            reproduce: `${sh`cd ${worktree!}`} && ${task.verify}`,
            message: `its verify \`${task.verify}\` fails (exit ${fresh.exitCode})${tail ? `: ${tail}` : ""}; its whole output: ${log}`,
            fix: `fix it in ${worktree ?? task.branch}, commit, and sync again`,
          });
        }
      }
      return { found, check: { task, tip, worktree } satisfies TaskCheck };
    }),
  );
  const offStart: RefFinding[] = [];
  for (const r of results) {
    problems.push(...r.found);
    if (r.check) checks.push(r.check);
    if (r.offStart) offStart.push(r.offStart);
  }
  await refuseFindings(cwd, options.slug, offStart);

  const startOf = (id: string) => options.taskStarts?.[id] ?? options.startCommit;
  const { chain, conflicts } = await mergeChain(cwd, plan, phase, integrationTip, checks, { startOf });
  return { integrationTip, problems, conflicts, chain };
}

/**
 * Where the files no commit of the task lists were changed: by hand inside its merge commits,
 * which `git log --stat` does not show. Empty when there are none.
 */
function inMergesText(files: readonly string[], inMerges: ReadonlyMap<string, string>): string {
  const byMerge = new Map<string, string[]>();
  for (const f of files) {
    const merge = inMerges.get(f);
    if (merge !== undefined) byMerge.set(merge, [...(byMerge.get(merge) ?? []), f]);
  }
  return [...byMerge].map(([merge, fs]) => `; changed by hand inside its merge commit ${merge.slice(0, 12)} (git show --remerge-diff ${merge.slice(0, 12)}): ${fs.join(", ")}`).join("");
}
