import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { FeatureContext } from "../state-ref/open-feature.js";
import { featureDir, runNotifiedPath } from "../core/state/paths.js";
import { appendRegular } from "../fs/append-regular.js";
import { forEachLine } from "../fs/read-regular.js";
import { readHookRecord } from "../session/ledger.js";
import type { RunEvent } from "../feature/run-events.js";
import { which } from "../session/launch.js";
import { jsonLine } from "../core/text/single-line.js";
import { DELIVERY_TIMEOUT_MS, deliver, desktopWay, type DeliveryContext } from "./deliver.js";
import { notificationsFor, payload, type Happening, type Notification } from "./notifications.js";
import { allTargets, targetKey, targetLabel, type CliTarget, type Target } from "./targets.js";

/** How often the tasks' ledger records are read for a state that needs the user. */
const LEDGER_POLL_MS = 2_000;
/** How long the end of a run waits for notifications still on their way. */
const CLOSE_WAIT_MS = 15_000;
/** What of the record of sent notifications is read (its end): far more than a feature sends. */
const SENT_TAIL = 4 * 1024 * 1024;

/**
 * The notifier of a run of the feature: its command line's targets and its plan's, commands run
 * in the main checkout; none when neither names a target.
 */
export function notifierFor(ctx: FeatureContext, cli: readonly CliTarget[], output: Pick<NotifierOptions, "terminal" | "report">): Notifier | undefined {
  const targets = allTargets(cli, ctx.feature.plan.notify);
  if (!targets.length) return undefined;
  const tasks = ctx.feature.plan.phases.flatMap((p) => p.tasks.map((t) => ({ id: t.id, phase: p.index })));
  return new Notifier({ commonDir: ctx.repo.commonDir, slug: ctx.feature.slug, targets, tasks, cwd: ctx.mainRoot, ...output });
}

interface NotifierOptions {
  commonDir: string;
  slug: string;
  targets: Target[];
  /** The plan's tasks: whose ledger records are watched, and each one's phase. */
  tasks: ReadonlyArray<{ id: string; phase: number }>;
  /** Where a command target runs. */
  cwd: string;
  /** Raw output to the run's terminal, when it has one (the desktop target's fallback). */
  terminal?: (raw: string) => void;
  /** Says that a target failed: once per target. */
  report: (text: string) => void;
  timeoutMs?: number;
}

/**
 * Sends `run`'s notifications. It hears every run event (`listen`, Progress's listener) and reads
 * the tasks' ledger records on a timer; what they mean is notificationsFor's (pure). Each target
 * gets its notifications in order, one at a time, each delivery bounded; nothing here is awaited
 * by the run but `close`, itself bounded. What reached a target is appended to the run's record,
 * read back at the start, so a run run again sends nothing twice.
 */
export class Notifier {
  private readonly sent = new Set<string>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly failed = new Set<string>();
  private readonly phases: Map<string, number>;
  private timer: NodeJS.Timeout | undefined;
  private context!: DeliveryContext;

  constructor(private readonly o: NotifierOptions) {
    this.phases = new Map(o.tasks.map((t) => [t.id, t.phase]));
  }

  async start(): Promise<void> {
    const path = runNotifiedPath(this.o.commonDir, this.o.slug);
    await forEachLine(path, { last: SENT_TAIL, maxLine: 4096, complete: true }, (line) => {
      try {
        const { key, target } = JSON.parse(line.bytes?.toString("utf8") ?? "") as { key?: unknown; target?: unknown };
        if (typeof key === "string" && typeof target === "string") this.sent.add(`${target} ${key}`);
      } catch {
        // A damaged line: its notification may be sent again.
      }
    }).catch(() => undefined);
    const wantsDesktop = this.o.targets.some((t) => t.kind === "desktop");
    const desktop = desktopWay({
      platform: process.platform,
      env: process.env,
      terminal: this.o.terminal !== undefined,
      ...(wantsDesktop && { notifySend: await which("notify-send"), osascript: await which("osascript") }),
    });
    this.context = { cwd: this.o.cwd, desktop, ...(this.o.terminal && { terminal: this.o.terminal }), timeoutMs: this.o.timeoutMs ?? DELIVERY_TIMEOUT_MS };
    this.readLedgers();
    this.timer = setInterval(() => this.readLedgers(), LEDGER_POLL_MS);
    this.timer.unref();
  }

  /** Progress's listener: queues what the event means, and returns at once. */
  readonly listen = (event: RunEvent): void => this.hear({ kind: "run", event });

  /** Stops watching, reads the ledgers a last time, and waits (at most CLOSE_WAIT_MS) for what is on its way. */
  async close(waitMs = CLOSE_WAIT_MS): Promise<void> {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.readLedgers();
    let bound: NodeJS.Timeout | undefined;
    const late = await Promise.race([Promise.all(this.queues.values()).then(() => false), new Promise<boolean>((r) => (bound = setTimeout(() => r(true), waitMs)))]);
    clearTimeout(bound);
    if (late) this.o.report(`notifications still on their way after ${waitMs / 1000} s were left unsent`);
  }

  private readLedgers(): void {
    const dir = featureDir(this.o.commonDir, this.o.slug);
    for (const id of this.phases.keys()) {
      // A damaged record says nothing: status names it.
      const record = readHookRecord(dir, id);
      if (record) this.hear({ kind: "ledger", task: id, state: record.state, since: record.since, ...(record.detail !== undefined && { detail: record.detail }) });
    }
  }

  private hear(happening: Happening): void {
    if (!this.context) return;
    for (const n of notificationsFor(happening, (task) => this.phases.get(task))) for (const target of this.o.targets) this.send(n, target);
  }

  private send(n: Notification, target: Target): void {
    const key = targetKey(target);
    const id = `${key} ${n.key}`;
    if (this.sent.has(id)) return;
    this.sent.add(id);
    const previous = this.queues.get(key) ?? Promise.resolve();
    this.queues.set(
      key,
      previous
        .then(async () => {
          const problem = await deliver(target, payload(n, this.o.slug), this.context).catch((error: Error) => `it failed (${error.message})`);
          if (problem === undefined) return this.record(n, key);
          if (this.failed.has(key)) return;
          this.failed.add(key);
          this.o.report(`the ${n.event} notification to ${targetLabel(target)} was not delivered: ${problem}; the run goes on (this target's later failures are not reported)`);
        })
        .catch(() => undefined),
    );
  }

  private async record(n: Notification, target: string): Promise<void> {
    const path = runNotifiedPath(this.o.commonDir, this.o.slug);
    await mkdir(dirname(path), { recursive: true });
    await appendRegular(path, jsonLine({ key: n.key, target, at: new Date().toISOString() }) + "\n").catch(() => undefined);
  }
}
