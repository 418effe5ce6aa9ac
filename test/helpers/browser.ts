import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { REPO_ROOT } from "./paths.js";
import { tempDir } from "./tmp.js";

/**
 * Debian's Chromium, driven over the DevTools protocol through the pipe Chromium opens on file
 * descriptors 3 and 4 (`--remote-debugging-pipe`): JSON messages ended by a NUL byte. No port,
 * no driver library, nothing downloaded: the installed browser only.
 */

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Whether the browser tests may run. Under CI it must be there (.ci/run installs it): missing is a failure, not a skip. */
export function chromiumAvailable(): boolean {
  const present = existsSync(CHROMIUM) && spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).status === 0;
  if (!present && process.env.CI === "true") throw new Error(`chromium is missing at ${CHROMIUM}: .ci/run installs it with apt-get`);
  return present;
}

/** Where the tests keep what they want a person to look at after the run (screenshots). */
export const ARTIFACTS = join(REPO_ROOT, ".cache", "artifacts");

type Pending = { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void; method: string };

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = "";
  private constructor(
    private readonly child: ChildProcess,
    private readonly input: Writable,
  ) {}

  static async launch(size = { width: 900, height: 1000 }): Promise<Browser> {
    const profile = tempDir("cp-chromium-");
    // As root Chromium needs --no-sandbox; the background-networking flags keep it off the network.
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
      `--window-size=${size.width},${size.height}`,
      "--remote-debugging-pipe",
      "about:blank",
    ];
    const child = spawn(CHROMIUM, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    child.stderr!.resume();
    const browser = new Browser(child, child.stdio[3] as Writable);
    (child.stdio[4] as Readable).on("data", (chunk: Buffer) => browser.receive(chunk.toString("utf8")));
    child.once("exit", () => {
      for (const p of browser.pending.values()) p.reject(new Error(`chromium exited while waiting for ${p.method}`));
      browser.pending.clear();
    });
    return browser;
  }

  private receive(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf("\0")) >= 0) {
      const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      this.buffer = this.buffer.slice(end + 1);
      const waiting = message.id !== undefined ? this.pending.get(message.id) : undefined;
      if (!waiting) continue;
      this.pending.delete(message.id!);
      if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting.resolve(message.result ?? {});
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.input.write(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }) + "\0");
    });
  }

  /** A new tab, attached. */
  async newPage(): Promise<Page> {
    const { targetId } = (await this.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    return page;
  }

  async close(): Promise<void> {
    await this.send("Browser.close").catch(() => undefined);
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGKILL");
      await exited;
    }
  }
}

export class Page {
  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  async goto(url: string): Promise<void> {
    const r = (await this.send("Page.navigate", { url })) as { errorText?: string };
    if (r.errorText) throw new Error(`navigation to ${url} failed: ${r.errorText}`);
  }

  /** The value of a JavaScript expression in the page (awaited if it is a promise). */
  async eval<T>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** The page's visible text. */
  text(): Promise<string> {
    return this.eval<string>("document.body ? document.body.innerText : ''");
  }

  /** Waits (bounded, not timed: a slow machine only waits longer) until `expression` is true in the page. */
  async waitFor(expression: string, ms = 60_000): Promise<boolean> {
    for (let waited = 0; waited < ms; waited += 100) {
      if (await this.eval<boolean>(`Boolean(${expression})`).catch(() => false)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** Presses a key as a user would (a trusted event, focus moves). */
  async press(key: "Tab" | "Enter" | "Shift+Tab"): Promise<void> {
    const shift = key === "Shift+Tab";
    const name = shift ? "Tab" : key;
    const code = name === "Tab" ? 9 : 13;
    const common = { key: name, code: name, windowsVirtualKeyCode: code, nativeVirtualKeyCode: code, modifiers: shift ? 8 : 0 };
    await this.send("Input.dispatchKeyEvent", { type: "rawKeyDown", ...common });
    if (name === "Enter") await this.send("Input.dispatchKeyEvent", { type: "char", text: "\r", ...common });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", ...common });
  }

  /** A PNG of the whole page, kept under .cache/artifacts/ as `name`. */
  async screenshot(name: string): Promise<string> {
    const { data } = (await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true })) as { data: string };
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    writeFileSync(path, Buffer.from(data, "base64"));
    return path;
  }
}
