import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Whether a process with this PID exists (one we may not signal exists too). */
export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * When the process started (clock ticks since boot, from /proc on Linux), so that a PID reused by
 * another process is not mistaken for the one we recorded. Undefined where /proc is not there.
 */
export function processStartTime(pid: number): string | undefined {
  return readStat(pid)?.fields[19];
}

/**
 * A process's /proc/<pid>/stat: its command name and the fields after it ([state, ppid, pgrp,
 * ...]); undefined without /proc. The command name may hold spaces and parentheses: the fields
 * are counted from the last ')'.
 */
function readStat(pid: number | string): { command: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return { command: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), fields: stat.slice(stat.lastIndexOf(")") + 2).split(" ") };
  } catch {
    return undefined;
  }
}

/** The process group of a process (Linux), so what a killed command left running can be found. */
export function processGroup(pid: number): number | undefined {
  const group = Number(readStat(pid)?.fields[2]);
  return Number.isInteger(group) && group > 0 ? group : undefined;
}

/**
 * Live git processes of the process group `group` that outlived their parent: those a killed
 * command started (they were reparented out of the group), not those of a live command of the
 * same group (a test runner's, or a shell script's), whose parent is still there. Leaves out this
 * process and its ancestors. Empty where /proc is not there.
 */
export function gitProcessesInGroup(group: number): number[] {
  const skip = new Set<number>();
  for (let pid = process.pid; pid > 1 && !skip.has(pid); pid = Number(readStat(pid)?.fields[1] ?? 0)) skip.add(pid);
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const processes = new Map<number, { command: string; state: string; parent: number; group: number }>();
  for (const name of entries) {
    const stat = /^\d+$/.test(name) ? readStat(name) : undefined;
    if (stat === undefined) continue;
    const { command, fields } = stat;
    processes.set(Number(name), { command, state: fields[0]!, parent: Number(fields[1]), group: Number(fields[2]) });
  }
  const found: number[] = [];
  for (const [pid, p] of processes) {
    if (skip.has(pid) || p.group !== group || p.state === "Z" || !p.command.startsWith("git")) continue;
    if (processes.get(p.parent)?.group === group && p.parent !== 1) continue; // its parent runs on
    found.push(pid);
  }
  return found;
}

/**
 * Live git processes working in one of `folders` (their current folder is one of them or inside
 * one): any git of the user's in the repository's checkouts. Undefined where /proc is not there
 * (then nobody can tell).
 */
export function gitProcessesUnder(folders: readonly string[]): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const stat = readStat(name);
    if (!stat?.command.startsWith("git") || stat.fields[0] === "Z") continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    if (folders.some((f) => cwd === f || cwd.startsWith(f.endsWith("/") ? f : `${f}/`))) found.push(Number(name));
  }
  return found;
}
