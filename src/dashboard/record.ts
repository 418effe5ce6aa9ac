import { request } from "node:http";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as z from "zod/mini";
import { MAX_BYTES } from "../core/state/bounds.js";
import { dashboardRecordPath } from "../core/state/paths.js";
import { replaceFile } from "../fs/atomic.js";
import { readRegular } from "../fs/read-regular.js";
import { dashboardUrl } from "./server.js";

/**
 * The dashboard serving a repository, recorded where only the user can read it (its token is the
 * page's key: mode 0600, in the git directory's `parallel/`), so that a second `dashboard
 * --detach` gives the address of the running one instead of starting another server. A record
 * is believed only when the server at its port answers its token: a stale one (the dashboard was
 * killed) or one naming another server is not.
 */
export interface DashboardRecord {
  pid: number;
  port: number;
  token: string;
  /** The feature it was started for, if one. */
  chosen?: string;
}

const RecordSchema = z.object({
  pid: z.number().check(z.int(), z.positive()),
  port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
  token: z.string().check(z.regex(/^[A-Za-z0-9_-]{16,128}$/)),
  chosen: z.optional(z.string()),
});

/** How long the running dashboard may take to answer before it counts as gone. */
const ANSWER_MS = 5_000;

/** Records the dashboard this process serves. Best effort: a dashboard that cannot record itself still serves. */
export async function recordDashboard(commonDir: string, record: DashboardRecord): Promise<void> {
  const path = dashboardRecordPath(commonDir);
  await mkdir(dirname(path), { recursive: true })
    .then(() => replaceFile(path, (temp) => writeFile(temp, JSON.stringify(record) + "\n", { flag: "wx", mode: 0o600 })))
    .catch(() => undefined);
}

/** Removes the record when it is still this dashboard's (a later one may have replaced it). */
export async function forgetDashboard(commonDir: string, token: string): Promise<void> {
  if ((await readRecord(commonDir))?.token === token) await rm(dashboardRecordPath(commonDir), { force: true });
}

/** The recorded dashboard when it still serves (it answers its token), else undefined. */
export async function runningDashboard(commonDir: string): Promise<DashboardRecord | undefined> {
  const record = await readRecord(commonDir);
  return record !== undefined && (await answers(record)) ? record : undefined;
}

async function readRecord(commonDir: string): Promise<DashboardRecord | undefined> {
  const bytes = await readRegular(dashboardRecordPath(commonDir), MAX_BYTES.marker).catch(() => undefined);
  if (bytes === undefined) return undefined;
  try {
    const parsed = z.safeParse(RecordSchema, JSON.parse(bytes.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a dashboard answers at the record's port with its page for the record's token. */
function answers(record: DashboardRecord): Promise<boolean> {
  const url = new URL(dashboardUrl(record.port, record.token));
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port: record.port, path: url.pathname + url.search, method: "HEAD", timeout: ANSWER_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 && /^text\/html/.test(res.headers["content-type"] ?? ""));
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(false));
    req.end();
  });
}
