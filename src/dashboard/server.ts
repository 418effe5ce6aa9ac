import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { EnvironmentError } from "../core/errors.js";
import type { DashboardPage } from "./page.js";

/** Where the snapshots come from (./live.ts), as the server needs it. */
interface SnapshotSource {
  current(): Promise<string>;
  subscribe(listener: (json: string) => void): () => void;
}

interface DashboardServer {
  port: number;
  /** The address to open, token included. */
  url: string;
  close(): Promise<void>;
}

/** Pages listening at once; more are refused (503) rather than let a runaway tab exhaust the process. */
const MAX_STREAMS = 32;
const HEARTBEAT_MS = 25_000;

/** A fresh secret for the address: 256 random bits. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The dashboard's HTTP server (node:http, nothing else): bound to 127.0.0.1 only, and read-only.
 * Every request must carry the token (`?token=`, compared in constant time) and a Host header
 * naming this very address, or it gets 403: a page of another site cannot read it, and a DNS
 * name rebound to 127.0.0.1 is refused by its Host. Only GET and HEAD exist: `/` the page,
 * `/events` the snapshots as server-sent events, `/snapshot.json` the current one.
 */
export async function startDashboardServer(options: { port: number; token: string; source: SnapshotSource; page: DashboardPage }): Promise<DashboardServer> {
  const { token, source, page } = options;
  const expected = Buffer.from(token);
  const streams = new Set<ServerResponse>();
  let hosts: string[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, "text/plain", "internal error\n");
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? "").toLowerCase();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const given = Buffer.from(url.searchParams.get("token") ?? "");
    if (!hosts.includes(host) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return send(res, 403, "text/plain", "forbidden: open the address `claude-parallel dashboard` printed, with its token\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "text/plain", "the dashboard only reads: GET and HEAD\n");
    }
    const head = req.method === "HEAD";
    if (url.pathname === "/") return send(res, 200, "text/html; charset=utf-8", page.html, { "Content-Security-Policy": page.csp }, head);
    if (url.pathname === "/snapshot.json") return send(res, 200, "application/json", await source.current(), {}, head);
    if (url.pathname === "/events") return stream(req, res, head);
    return send(res, 404, "text/plain", "not found\n");
  }

  function stream(req: IncomingMessage, res: ServerResponse, head: boolean): void {
    if (streams.size >= MAX_STREAMS) {
      send(res, 503, "text/plain", `at most ${MAX_STREAMS} pages at once\n`);
      return;
    }
    res.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no" });
    if (head) return void res.end();
    streams.add(res);
    res.write("retry: 2000\n\n");
    // JSON.stringify leaves no line break in its text: one `data:` line per snapshot.
    const unsubscribe = source.subscribe((json) => res.write(`event: snapshot\ndata: ${json}\n\n`));
    const heartbeat = setInterval(() => res.write(": still here\n\n"), HEARTBEAT_MS);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.once("close", end);
    res.once("error", end);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new EnvironmentError(`port ${options.port} on 127.0.0.1 is in use`, "choose another with --port N, or leave --port out for a free one")
          : error.code === "EACCES"
            ? new EnvironmentError(`port ${options.port} on 127.0.0.1 needs privileges`, "choose a port above 1023 with --port N, or leave --port out")
            : error,
      );
    });
    server.listen({ port: options.port, host: "127.0.0.1", exclusive: true }, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  return {
    port,
    url: dashboardUrl(port, token),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The address to open: the token is in it. */
export const dashboardUrl = (port: number, token: string) => `http://127.0.0.1:${port}/?token=${token}`;

/** On every answer: nothing cached, nothing sniffed, no referrer (the token is in the address), never in a frame. */
const COMMON_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Resource-Policy": "same-origin",
};

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}, head = false): void {
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}
