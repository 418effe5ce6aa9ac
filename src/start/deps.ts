import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { pathExists as exists } from "../fs/exists.js";
import { git } from "../git/run.js";

export type DepsMode = "auto" | "none";

interface PackageManager {
  name: "npm" | "pnpm" | "yarn";
  lockfile: string;
  /** A file the manager writes into node_modules when an install completes. */
  markers: string[];
}

const MANAGERS: PackageManager[] = [
  { name: "pnpm", lockfile: "pnpm-lock.yaml", markers: [".modules.yaml"] },
  { name: "yarn", lockfile: "yarn.lock", markers: [".yarn-state.yml", ".yarn-integrity"] },
  { name: "npm", lockfile: "package-lock.json", markers: [".package-lock.json"] },
  { name: "npm", lockfile: "npm-shrinkwrap.json", markers: [".package-lock.json"] },
];

/** Our note in a node_modules we installed or copied: what it was installed for. */
const STAMP = ".claude-parallel.json";
interface Stamp { lockHash: string; abi: string; platform: string; arch: string }


export async function detectManager(root: string): Promise<PackageManager | undefined> {
  for (const m of MANAGERS) if (await exists(join(root, m.lockfile))) return m;
  return undefined;
}

async function lockHash(root: string, m: PackageManager): Promise<string | undefined> {
  try {
    return createHash("sha256").update(await readFile(join(root, m.lockfile))).digest("hex");
  } catch {
    return undefined;
  }
}

/** The node_modules folders of a checkout (the root's and, in a monorepo, each package's). */
async function installedFolders(root: string): Promise<string[]> {
  const r = await git(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], root);
  return r.stdout
    .split("\0")
    .filter((p) => /(^|\/)node_modules\/$/.test(p) && !/node_modules\/.+node_modules\/$/.test(p))
    .map((p) => p.replace(/\/$/, ""));
}

/**
 * Whether the installed tree in `source` fits a checkout with lockfile hash `hash`: same
 * lockfile, a completed install, and, where we stamped it, the same Node ABI and platform.
 */
async function reusable(source: string, m: PackageManager, hash: string): Promise<boolean> {
  if ((await lockHash(source, m)) !== hash) return false;
  const modules = join(source, "node_modules");
  let complete = false;
  for (const marker of m.markers) if (await exists(join(modules, marker))) complete = true;
  if (!complete) return false;
  try {
    const stamp = JSON.parse(await readFile(join(modules, STAMP), "utf8")) as Stamp;
    return stamp.lockHash === hash && stamp.abi === process.versions.modules && stamp.platform === process.platform && stamp.arch === process.arch;
  } catch {
    return true; // installed by the user, with the Node they use
  }
}

/** Whether `source`'s installed tree fits `worktree` (same lockfile, complete install, same Node ABI). */
export async function fitsInstalledTree(source: string, worktree: string): Promise<boolean> {
  const m = await detectManager(worktree);
  const hash = m && (await lockHash(worktree, m));
  return hash !== undefined && m !== undefined && (await reusable(source, m, hash));
}

/** A real copy: copy-on-write clones where the filesystem has them, never links to the source. */
function copyTree(from: string, to: string): Promise<void> {
  const args = process.platform === "darwin" ? ["-a", "-c", from, to] : ["-a", "--reflink=auto", "--", from, to];
  return new Promise((resolve, reject) => execFile("cp", args, (error, _out, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve())));
}

async function stamp(root: string, hash: string): Promise<void> {
  const s: Stamp = { lockHash: hash, abi: process.versions.modules, platform: process.platform, arch: process.arch };
  await writeFile(join(root, "node_modules", STAMP), JSON.stringify(s) + "\n").catch(() => undefined);
}

export type DepsResult =
  | { kind: "none" }
  | { kind: "present" }
  | { kind: "copied"; from: string; folders: number }
  | { kind: "installed"; manager: string };

/**
 * Gives a fresh worktree working dependencies: a copy of an installed tree that fits (from the
 * main checkout or another worktree of the feature), else the manager's clean install.
 */
export async function prepareDependencies(
  worktree: string,
  sources: string[],
  log: (line: string) => void,
): Promise<DepsResult> {
  const m = await detectManager(worktree);
  if (!m) return { kind: "none" };
  const hash = (await lockHash(worktree, m))!;
  if (await reusable(worktree, m, hash)) return { kind: "present" };
  for (const source of sources) {
    if (source === worktree || !(await reusable(source, m, hash))) continue;
    const folders = await installedFolders(source);
    try {
      for (const folder of folders) {
        await rm(join(worktree, folder), { recursive: true, force: true });
        await copyTree(join(source, folder), join(worktree, folder));
      }
      await stamp(worktree, hash);
      return { kind: "copied", from: source, folders: folders.length };
    } catch (error) {
      log(`copying node_modules from ${source} failed (${(error as Error).message.trim()}); installing instead`);
      for (const folder of folders) await rm(join(worktree, folder), { recursive: true, force: true });
    }
  }
  await cleanInstall(worktree, m, log);
  await stamp(worktree, hash);
  return { kind: "installed", manager: m.name };
}

async function cleanInstall(worktree: string, m: PackageManager, log: (line: string) => void): Promise<void> {
  const { execa } = await import("execa");
  let args: string[];
  if (m.name === "npm") args = ["ci", "--no-audit", "--no-fund"];
  else if (m.name === "pnpm") args = ["install", "--frozen-lockfile"];
  else {
    const version = await execa("yarn", ["--version"], { cwd: worktree, reject: false });
    args = String(version.stdout).startsWith("1.") ? ["install", "--frozen-lockfile"] : ["install", "--immutable"];
  }
  log(`${m.name} ${args.join(" ")} in ${worktree}`);
  const child = execa(m.name, args, { cwd: worktree, all: true, reject: false, env: { npm_config_progress: "false" } });
  for await (const line of child.iterable({ from: "all" })) log(`  ${line}`);
  const result = await child;
  if (result.failed) {
    throw new Error(
      result.code === "ENOENT"
        ? `${m.name} is not installed, and ${worktree} needs its dependencies (${m.lockfile}); install ${m.name} or start with --deps none`
        : `${m.name} ${args.join(" ")} failed in ${worktree} (exit ${result.exitCode})`,
    );
  }
}
