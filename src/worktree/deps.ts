import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { EnvironmentError, ProcessError } from "../core/errors.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { pathExists as exists } from "../fs/exists.js";
import { readRegular, sizeText } from "../fs/read-regular.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { gitOk, nulFields } from "../git/run.js";
import { run, runOk, type Confinement } from "../proc.js";

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
interface Stamp {
  lockHash: string;
  abi: string;
  platform: string;
  arch: string;
}

async function detectManager(root: string): Promise<PackageManager | undefined> {
  for (const m of MANAGERS) if (await exists(join(root, m.lockfile))) return m;
  return undefined;
}

/**
 * The hash of a checkout's lockfile, undefined when it is not a regular file within its bound: a
 * branch can commit it as a link (to /dev/zero, say), a session can put a FIFO or a huge file in
 * its place, and reading through any of those would hang or exhaust us.
 */
async function lockHash(root: string, m: PackageManager): Promise<string | undefined> {
  const bytes = await readRegular(join(root, m.lockfile), MAX_BYTES.lockfile).catch(() => undefined);
  return bytes && createHash("sha256").update(bytes).digest("hex");
}

/** The node_modules folders of a checkout (the root's and, in a monorepo, each package's). */
async function installedFolders(root: string): Promise<string[]> {
  const out = await gitOk(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], root);
  return nulFields(out)
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
  // Something there that is not a small regular file is not our note, and not a tree to copy.
  const note = await readRegular(join(modules, STAMP), MAX_BYTES.depsStamp).catch(() => null);
  if (note === null) return false;
  if (note === undefined) return true; // installed by the user, with the Node they use
  try {
    const stamp = JSON.parse(note.toString("utf8")) as Stamp;
    return stamp.lockHash === hash && stamp.abi === process.versions.modules && stamp.platform === process.platform && stamp.arch === process.arch;
  } catch {
    return true; // a torn note: the manager's own marker has decided
  }
}

/** Whether `source`'s installed tree fits `worktree` (same lockfile, complete install, same Node ABI). */
export async function fitsInstalledTree(source: string, worktree: string): Promise<boolean> {
  const m = await detectManager(worktree);
  const hash = m && (await lockHash(worktree, m));
  return hash !== undefined && m !== undefined && (await reusable(source, m, hash));
}

/** A real copy: copy-on-write clones where the filesystem has them, never links to the source. */
async function copyTree(from: string, to: string): Promise<void> {
  const args = process.platform === "darwin" ? ["-a", "-c", from, to] : ["-a", "--reflink=auto", "--", from, to];
  await runOk("cp", args, { cwd: dirname(to) });
}

/**
 * Our note in a tree, written in place (no temporary file that a kill could leave inside
 * node_modules): a torn note reads as no note, and the manager's own marker then decides.
 */
async function stamp(worktree: WorktreeFiles, hash: string, folder = "node_modules"): Promise<void> {
  const s: Stamp = { lockHash: hash, abi: process.versions.modules, platform: process.platform, arch: process.arch };
  await writeFile(await worktree.prepareParent(join(folder, STAMP)), JSON.stringify(s) + "\n");
}

/** Where a folder is copied before it is renamed into place: a killed copy is never mistaken for a complete one. */
const partialCopy = (folder: string) => join(dirname(folder), ".node_modules.claude-parallel-partial");

export type DepsResult = { kind: "none" } | { kind: "present" } | { kind: "copied"; from: string; folders: number } | { kind: "installed"; manager: string } | { kind: "skipped"; why: string };

/**
 * Gives a fresh worktree working dependencies: a copy of an installed tree that fits (from the
 * main checkout or another worktree of the feature), else the manager's clean install.
 */
export async function prepareDependencies(
  worktreeRoot: string,
  sources: string[],
  log: (line: string) => void,
  /** Each source's node_modules folders, listed once for all the worktrees a start prepares side by side. */
  folderLists: Map<string, Promise<string[]>> = new Map(),
  /** A clean install runs the branch's install scripts confined to the worktree and the manager's cache (src/proc.ts). */
  confined = false,
): Promise<DepsResult> {
  const worktree = await WorktreeFiles.at(worktreeRoot);
  const m = await detectManager(worktreeRoot);
  if (!m) return { kind: "none" };
  if ((await worktree.kind("node_modules")) === "link") {
    log("node_modules is a symbolic link committed in the branch: dependencies left as they are");
    return { kind: "skipped", why: "node_modules is a committed symbolic link" };
  }
  const hash = await lockHash(worktreeRoot, m);
  if (hash === undefined) {
    log(`${m.lockfile} is not a regular file of at most ${sizeText(MAX_BYTES.lockfile)}: dependencies left as they are`);
    return { kind: "skipped", why: `${m.lockfile} is not a regular file of at most ${sizeText(MAX_BYTES.lockfile)}` };
  }
  if (await reusable(worktreeRoot, m, hash)) return { kind: "present" };
  for (const source of sources) {
    if (source === worktreeRoot || !(await reusable(source, m, hash))) continue;
    if (!folderLists.has(source)) folderLists.set(source, installedFolders(source));
    const folders = await folderLists.get(source)!;
    try {
      for (const folder of folders) {
        const partial = partialCopy(folder);
        if (!(await worktree.remove(partial))) throw new Error(`${partial} is a symbolic link`);
        await copyTree(join(source, folder), await worktree.prepareParent(partial));
        // The root tree carries our note when it lands, so it is never there without it.
        if (folder === "node_modules") await stamp(worktree, hash, partial);
        if (!(await worktree.remove(folder))) throw new Error(`${folder} is a symbolic link committed in the branch`);
        await worktree.move(partial, folder);
      }
      return { kind: "copied", from: source, folders: folders.length };
    } catch (error) {
      if (error instanceof Error && error.name === "PathEscapeError") throw error;
      log(`copying node_modules from ${source} failed (${(error as Error).message.trim()}); installing instead`);
      for (const folder of folders) {
        await worktree.remove(partialCopy(folder));
        await worktree.remove(folder);
      }
    }
  }
  await cleanInstall(worktreeRoot, m, log, confined);
  await stamp(worktree, hash);
  return { kind: "installed", manager: m.name };
}

/**
 * Where a package manager's clean install writes besides the worktree: its download cache and
 * store (as their defaults place them; npm's may be moved by npm_config_cache). Pure.
 */
export function packageCaches(manager: PackageManager["name"], env: NodeJS.ProcessEnv, home: string): string[] {
  const data = env.XDG_DATA_HOME || join(home, ".local", "share");
  const cache = env.XDG_CACHE_HOME || join(home, ".cache");
  if (manager === "npm") return [env.npm_config_cache || join(home, ".npm")];
  if (manager === "pnpm") return [join(data, "pnpm"), join(cache, "pnpm")];
  return [join(home, ".yarn"), join(cache, "yarn")];
}

async function cleanInstall(worktree: string, m: PackageManager, log: (line: string) => void, confined: boolean): Promise<void> {
  let confine: Confinement | undefined;
  if (confined) {
    const caches = packageCaches(m.name, process.env, homedir());
    // A bind needs its folder: the manager would make its cache on first use anyway.
    for (const c of caches) await mkdir(c, { recursive: true });
    confine = { writable: [worktree, ...caches] };
  }
  let args: string[];
  if (m.name === "npm") args = ["ci", "--no-audit", "--no-fund"];
  else if (m.name === "pnpm") args = ["install", "--frozen-lockfile"];
  else {
    // yarn 2+ runs the yarnPath the branch's .yarnrc.yml names, even for --version.
    const version = await run("yarn", ["--version"], { cwd: worktree, ...(confine && { confine }) });
    args = version.stdout.startsWith("1.") ? ["install", "--frozen-lockfile"] : ["install", "--immutable"];
  }
  log(`${m.name} ${args.join(" ")} in ${worktree}`);
  const result = await run(m.name, args, { cwd: worktree, env: { npm_config_progress: "false" }, onLine: (line) => log(`  ${line}`), maxBuffer: 1024 * 1024, ...(confine && { confine }) });
  if (result.spawnError?.code === "ENOENT") {
    throw new EnvironmentError(`${m.name} is not installed, and ${worktree} needs its dependencies (${m.lockfile})`, `install ${m.name}, or run with --deps none`);
  }
  if (result.exitCode !== 0) throw new ProcessError({ file: m.name, args, cwd: worktree, exitCode: result.exitCode, stderr: result.stderr || result.stdout });
}
