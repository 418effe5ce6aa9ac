import { lstat, mkdir, realpath, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { EnvironmentError } from "../core/errors.js";
import { featureRefsFolder, sandboxIgnorePath, sandboxSettingsPath } from "../core/state/paths.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readRegularText } from "../fs/read-regular.js";
import { confinementUnavailable } from "../proc.js";
import { git } from "../git/run.js";
import { unpackRefs } from "../git/unpack-refs.js";
import { RULES_FILE } from "./manifest.js";
import type { ExecutionPlan, PlannedTask } from "../core/plan/build.js";
import { which } from "./launch.js";
import { taskGitDir } from "./task-rules.js";

/**
 * Claude Code's sandbox for the Bash commands of the task sessions we launch (docs/sandbox.md): a
 * settings file of ours, in the feature's state, given to `claude --settings`. Claude Code then
 * runs every Bash command under bubblewrap, where only the session's own worktree (and the parts
 * of the git directory a commit on its own branch needs) can be written; the settings deny the
 * rest that git would leave writable: the feature's state, the task's rules, the other branches'
 * refs. It widens no permission: Bash commands still ask (or not) as the user's rules say. Its
 * one other setting makes the sessions' git ignore the placeholders the sandbox mounts.
 */

type SandboxMode = "auto" | "on" | "off";

/** What the sandbox needs on this machine, and what is missing. */
interface SandboxHost {
  platform: NodeJS.Platform;
  /** Programs Claude Code's sandbox needs here that are not on the PATH. */
  missing: string[];
}

type SandboxDecision = { use: boolean; note?: string } | { refuse: string; fix: string };

/** Where Claude Code's sandbox runs as checked (docs/sandbox.md): Linux, with these programs. */
const LINUX_NEEDS = ["bwrap", "socat"];

export async function sandboxHost(platform: NodeJS.Platform = process.platform): Promise<SandboxHost> {
  if (platform !== "linux") return { platform, missing: [] };
  const found = await Promise.all(LINUX_NEEDS.map((p) => which(p)));
  return { platform, missing: LINUX_NEEDS.filter((_, i) => found[i] === undefined) };
}

/** Whether the sessions get the sandbox, given the plan's `sandbox` and the machine. Pure. */
export function decideSandbox(mode: SandboxMode | undefined, host: SandboxHost): SandboxDecision {
  if (mode === "off") return { use: false };
  if (host.platform === "linux") {
    if (host.missing.length === 0) return { use: true };
    const missing = host.missing.map((p) => (p === "bwrap" ? "bubblewrap (bwrap)" : p)).join(" and ");
    const install = "install bubblewrap and socat (apt-get install bubblewrap socat)";
    if (mode === "on")
      return {
        refuse: `the plan asks for Claude Code's sandbox (sandbox: on), which needs ${missing}, not installed here`,
        fix: `${install}, or write \`sandbox: auto\` or \`sandbox: off\` in the plan`,
      };
    return {
      use: false,
      note: `Claude Code's sandbox is not available here (it needs ${missing}): the sessions' Bash commands can write outside their worktrees. To confine them, ${install} (docs/sandbox.md).`,
    };
  }
  // Checked on Linux only: elsewhere it is the plan's explicit choice, and Claude Code refuses to
  // start a session whose sandbox cannot run.
  if (mode === "on") return { use: true };
  return {
    use: false,
    note: `Claude Code's sandbox is used on Linux only unless the plan says \`sandbox: on\` (it is not checked on ${host.platform}): the sessions' Bash commands can write outside their worktrees (docs/sandbox.md).`,
  };
}

/** The decision for the plan on this machine; a refusal is thrown. */
export async function sandboxDecision(plan: ExecutionPlan): Promise<{ use: boolean; note?: string }> {
  const decision = plan.sandbox === "off" ? { use: false } : decideSandbox(plan.sandbox, await sandboxHost());
  if ("refuse" in decision) throw new EnvironmentError(decision.refuse, decision.fix);
  return decision;
}

/**
 * Whether the code written during the feature that we run outside its sessions (the verify
 * commands, which run the sessions' tests; a clean install, which runs the branch's install
 * scripts) runs confined (src/proc.ts, Confinement), given the plan's `sandbox` and why this
 * machine cannot confine (undefined: it can). Pure.
 */
export function decideConfinement(mode: SandboxMode | undefined, unavailable: string | undefined): { confine: boolean; note?: string } | { refuse: string; fix: string } {
  if (mode === "off") return { confine: false };
  if (unavailable === undefined) return { confine: true };
  if (mode === "on")
    return {
      refuse: `the plan asks for confinement (sandbox: on), and ${unavailable}`,
      fix: "install bubblewrap (apt-get install bubblewrap), or write `sandbox: auto` or `sandbox: off` in the plan",
    };
  return {
    confine: false,
    note: `the code under test runs unconfined (${unavailable}): verify commands and installs can write anywhere you can. To confine them, install bubblewrap (docs/sandbox.md).`,
  };
}

/** The confinement decision for the plan on this machine; a refusal is thrown. */
export async function confinementDecision(plan: Pick<ExecutionPlan, "sandbox">): Promise<{ confine: boolean; note?: string }> {
  const decision = decideConfinement(plan.sandbox, plan.sandbox === "off" ? undefined : await confinementUnavailable());
  if ("refuse" in decision) throw new EnvironmentError(decision.refuse, decision.fix);
  return decision;
}

/** What a task session must not write although the sandbox would let it (all absolute). */
interface SandboxDenies {
  /** The feature's state and the locks, beside the other features' (`<common>/parallel`). */
  stateFolder: string;
  /** The task's rules, in its worktree's own git directory. */
  rules: string;
  /** The other tasks' worktrees that exist. */
  worktrees: string[];
  /** Loose ref files (and ref folders) that exist: the base, the integration branch, other tasks' branches, `refs/parallel/<slug>`. */
  refs: string[];
  /**
   * Repository files a commit on the task's branch does not write: `packed-refs`, the packs of
   * `objects/pack` (a commit writes loose objects), the main checkout's `HEAD` and `index`, and
   * what changes how every git reads the repository: `info/` (`exclude`, which keeps
   * `.claude-parallel/` out of commits, `attributes`, `grafts`), `objects/info/` (alternates, a
   * commit-graph) and `refs/replace/` (objects that stand in for others in the user's own git).
   */
  repositoryFiles: string[];
}

/**
 * What the sandbox mounts in the worktree where a file it write-protects does not exist (checked
 * on Claude Code 2.1.330): device nodes that `git status` lists and `git add -A` refuses ("can
 * only add regular files"), so a session's usual commit fails (anthropics/claude-code#78419).
 * The sessions' git ignores them, and only them.
 */
export const SANDBOX_PLACEHOLDERS = [
  ...[".bash_profile", ".bashrc", ".gitconfig", ".gitmodules", ".idea", ".mcp.json", ".profile", ".ripgreprc", ".vscode", ".zprofile", ".zshrc"],
  ...["agents", "commands", "hooks", "launch.json", "loop.md", "output-styles", "routines", "scheduled_tasks.json", "settings.json", "settings.local.json", "skills", "workflows"].map(
    (f) => `.claude/${f}`,
  ),
];

/**
 * The ignore file the sessions' git reads instead of the user's own (core.excludesFile, which
 * it replaces): the placeholders at the worktree's root, then the user's patterns. Pure.
 */
export function sandboxIgnoreText(userPatterns: string | undefined): string {
  const lines = ["# claude-parallel: what Claude Code's sandbox mounts in a task worktree (docs/sandbox.md).", ...SANDBOX_PLACEHOLDERS.map((p) => `/${p}`)];
  if (userPatterns) lines.push("# Your own core.excludesFile, as it was when the session was launched:", userPatterns.trimEnd());
  return lines.join("\n") + "\n";
}

/** The settings Claude Code gets with `--settings`, given the ignore file its git reads. Pure. */
export function sandboxSettings(d: SandboxDenies, ignoreFile: string): Record<string, unknown> {
  return {
    // Only git's ignore file: Claude Code adds its own GIT_CONFIG_* entries after these.
    env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.excludesFile", GIT_CONFIG_VALUE_0: ignoreFile },
    sandbox: {
      enabled: true,
      // A session that cannot be confined does not start (claude-parallel checked that it can).
      failIfUnavailable: true,
      // No command may ask to run outside the sandbox: in bypassPermissions mode nothing would ask.
      allowUnsandboxedCommands: false,
      filesystem: { denyWrite: [d.stateFolder, d.rules, ...d.worktrees, ...d.refs, ...d.repositoryFiles] },
    },
  };
}

/**
 * Writes the sandbox settings of `task` (its worktree `worktree`) and returns the arguments that
 * give them to claude. Only paths that exist are denied: the sandbox puts a device node in place
 * of a missing one, which git then cannot read. So a repository without `packed-refs` gets an
 * empty one (what git reads as no packed refs), or a session could write one.
 */
export async function sandboxArgs(feature: { plan: ExecutionPlan; state: FeatureState; commonDir: string }, task: PlannedTask, worktree: string): Promise<string[]> {
  const { plan, state, commonDir } = feature;
  const exists = (path: string, kind: "file" | "dir") =>
    lstat(path).then(
      (s) => (kind === "file" ? s.isFile() : s.isDirectory()),
      () => false,
    );
  const packed = join(commonDir, "packed-refs");
  await writeFile(packed, "", { flag: "wx" }).catch(() => undefined);
  // Folders git reads as empty when they are: made if missing, so that they can be denied.
  const readFolders = [join(commonDir, "info"), join(commonDir, "objects", "info"), join(commonDir, "refs", "replace")];
  for (const folder of readFolders) await mkdir(folder, { recursive: true }).catch(() => undefined);
  const others = Object.values(state.phases).flatMap((p) =>
    Object.entries(p.tasks)
      .filter(([id]) => id !== task.id)
      .map(([, t]) => t.worktree),
  );
  const branches = [
    plan.base,
    plan.integrationBranch,
    ...plan.phases
      .flatMap((p) => p.tasks)
      .filter((t) => t.id !== task.id)
      .map((t) => t.branch),
  ];
  // A ref held only in packed-refs has no file to deny: it gets one first.
  await unpackRefs(worktree, commonDir, [...[...new Set(branches)].map((b) => `refs/heads/${b}`), featureRefsFolder(plan.slug)]);
  const refFiles = [...new Set(branches)].map((b) => join(commonDir, "refs", "heads", ...b.split("/")));
  const keep = async (paths: string[], kind: "file" | "dir") => (await Promise.all(paths.map((p) => exists(p, kind)))).flatMap((ok, i) => (ok ? [paths[i]!] : []));
  const denies: SandboxDenies = {
    stateFolder: join(commonDir, "parallel"),
    rules: join(await taskGitDir(worktree, commonDir, task.id), RULES_FILE),
    worktrees: await keep([...new Set(others)], "dir"),
    refs: [...(await keep(refFiles, "file")), ...(await keep([join(commonDir, "refs", "parallel", plan.slug)], "dir"))],
    repositoryFiles: [...(await keep([packed, join(commonDir, "HEAD"), join(commonDir, "index")], "file")), ...(await keep([join(commonDir, "objects", "pack"), ...readFolders], "dir"))],
  };
  const ignore = sandboxIgnorePath(commonDir, plan.slug, task.id);
  await writeFileAtomic(ignore, sandboxIgnoreText(await userExcludes(worktree)));
  const path = sandboxSettingsPath(commonDir, plan.slug, task.id);
  await writeFileAtomic(path, JSON.stringify(sandboxSettings(denies, ignore), null, 2) + "\n");
  return ["--settings", path];
}

/** The patterns of the ignore file git reads in `worktree` besides the repository's (core.excludesFile, or git's default). */
async function userExcludes(worktree: string): Promise<string | undefined> {
  const set = await git(["config", "--path", "--get", "core.excludesFile"], worktree).catch(() => undefined);
  const path = set?.exitCode === 0 && set.stdout !== "" ? resolve(worktree, set.stdout) : join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "git", "ignore");
  // Followed if it is a link (dotfiles are often linked into place), then read only if a regular file.
  const real = await realpath(path).catch(() => undefined);
  return real === undefined ? undefined : readRegularText(real, 1024 * 1024);
}
