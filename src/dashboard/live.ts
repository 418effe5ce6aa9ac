import { watch, type FSWatcher } from "node:fs";
import { dirname, join } from "node:path";
import { featureDir, runDir, sessionsDir } from "../core/state/paths.js";
import { SESSION_DIR } from "../session/session-files.js";
import type { Snapshot } from "./view.js";

/** A folder to watch, and which of its entries count (all but `ignore`, or only `only`). */
interface Watched {
  dir: string;
  only?: string[];
  ignore?: RegExp;
}

/**
 * The folders whose changes change what the dashboard shows, from the last snapshot: the state
 * folder of each feature (state, the hooks' ledger, `run`'s state and events, verify records), the
 * folders of the branches' refs (a commit in a worktree moves its branch), `packed-refs`, and each
 * task worktree's `.claude-parallel/` (a session's requests). What no file event tells (a file
 * edited but not committed in a worktree) is seen by the periodic look while a page is open.
 * Pure.
 */
export function watchedFolders(commonDir: string, snapshot: Snapshot): Watched[] {
  const list: Watched[] = [{ dir: commonDir, only: ["packed-refs", "parallel"] }, { dir: join(commonDir, "parallel") }];
  const refDirs = new Set<string>();
  for (const f of snapshot.features) {
    // Our own look writes the conflict prediction's cache there: it must not make the next look.
    list.push({ dir: featureDir(commonDir, f.slug), ignore: /status-prediction\.json/ });
    list.push(
      { dir: sessionsDir(commonDir, f.slug) },
      { dir: runDir(commonDir, f.slug) },
      { dir: join(featureDir(commonDir, f.slug), "verify") },
      { dir: join(featureDir(commonDir, f.slug), "merge-task") },
    );
    if ("error" in f) continue;
    for (const branch of [f.base, f.integrationBranch, ...f.phases.flatMap((p) => p.tasks.map((t) => t.branch))]) refDirs.add(dirname(join(commonDir, "refs", "heads", branch)));
    for (const t of f.phases.flatMap((p) => p.tasks)) if (t.worktree !== undefined && t.state !== "merged") list.push({ dir: join(t.worktree, SESSION_DIR) });
  }
  for (const dir of refDirs) list.push({ dir });
  return list;
}

/**
 * The dashboard's one source of truth: a snapshot made again when a watched file changes (changes
 * within `debounceMs` make one look) and every `rescanMs` while a page listens, never more than one
 * look at a time, whatever the number of pages. Each page gets the snapshot when it connects and
 * every changed one after; an unchanged look sends nothing. While no page listens nothing is
 * looked at: a change only marks the snapshot stale.
 */
export class LiveSnapshot {
  private json: string | undefined;
  private stale = true;
  private looking: Promise<void> | undefined;
  private again = false;
  private readonly listeners = new Set<(json: string) => void>();
  private readonly watchers = new Map<string, FSWatcher>();
  private debounce: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly look: () => Promise<Snapshot>,
    private readonly commonDir: string,
    private readonly options: { debounceMs: number; rescanMs: number },
  ) {}

  /** The current snapshot as JSON (looked at first when stale). */
  async current(): Promise<string> {
    if (this.stale || this.json === undefined) await this.refresh();
    return this.json!;
  }

  /** Calls `listener` with the snapshot now (once there is one) and with every change; returns the unsubscribe. */
  subscribe(listener: (json: string) => void): () => void {
    this.listeners.add(listener);
    if (this.json !== undefined) listener(this.json);
    if (this.stale || this.json === undefined) void this.refresh();
    this.rescan ??= setInterval(() => void this.refresh(), this.options.rescanMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.rescan) {
        clearInterval(this.rescan);
        this.rescan = undefined;
      }
    };
  }

  get listening(): number {
    return this.listeners.size;
  }

  /** One look now (or right after the one under way). */
  refresh(): Promise<void> {
    if (this.looking) {
      this.again = true;
      return this.looking;
    }
    this.looking = (async () => {
      do {
        this.again = false;
        this.stale = false;
        let snapshot: Snapshot;
        try {
          snapshot = await this.look();
        } catch (error) {
          snapshot = { version: 1, generatedAt: new Date().toISOString(), repository: "", features: [{ slug: "", error: (error as Error).message }] };
        }
        if (this.closed) return;
        this.watch(watchedFolders(this.commonDir, snapshot));
        const json = JSON.stringify(snapshot);
        // Only what changed goes out: the time of the look alone is no news.
        if (this.json === undefined || withoutTime(json) !== withoutTime(this.json)) {
          this.json = json;
          for (const listener of this.listeners) listener(json);
        }
      } while (this.again && !this.closed);
    })().finally(() => (this.looking = undefined));
    return this.looking;
  }

  private changed(): void {
    this.stale = true;
    if (this.listeners.size === 0 || this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), this.options.debounceMs);
  }

  private watch(folders: Watched[]): void {
    const wanted = new Map(folders.map((w) => [w.dir, w]));
    for (const [dir, watcher] of this.watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const w of wanted.values()) {
      if (this.watchers.has(w.dir)) continue;
      let watcher: FSWatcher;
      try {
        watcher = watch(w.dir, { persistent: false }, (_event, name) => {
          const file = name?.toString();
          if (file !== undefined && ((w.only && !w.only.includes(file)) || w.ignore?.test(file))) return;
          this.changed();
        });
      } catch {
        continue; // not there (yet): the next look tries again
      }
      // The folder went away (a worktree removed by the sync): forget it, and look again.
      watcher.on("error", () => {
        watcher.close();
        this.watchers.delete(w.dir);
        this.changed();
      });
      this.watchers.set(w.dir, watcher);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    if (this.rescan) clearInterval(this.rescan);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.listeners.clear();
  }
}

const withoutTime = (json: string) => json.replace(/^\{"version":1,"generatedAt":"[^"]*"/, "");
