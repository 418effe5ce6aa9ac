import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeHookRecord, type HookRecord } from "../../src/session/ledger.js";
import { Browser, chromiumAvailable, type Page } from "../helpers/browser.js";
import { HELPER } from "../helpers/cli.js";
import { commitIn, startedFeature } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { gitEnv } from "../helpers/git.js";
import { waitUntil } from "../helpers/wait.js";

/**
 * The dashboard in a real browser (Debian's headless Chromium, over the DevTools pipe), against a
 * real started feature whose plan and sessions hold hostile text: what a user sees as sessions
 * change state, without reloading; the keyboard; the states in grey; a laptop-half width. The
 * last screenshot is kept in .cache/artifacts/ for a person to look at.
 */

const HOSTILE_FEATURE = "<img src=x onerror=window.__pwned=1> demo";
const PLAN = [
  "version: 1",
  `feature: ${JSON.stringify(HOSTILE_FEATURE)}`,
  "tasks:",
  `  - {id: a, title: ${JSON.stringify("<script>window.__pwned=2</script> API")}, owns: [a/]}`,
  // b owns no path: it may change any file (shared.txt, for the conflict).
  "  - {id: b, title: Part B}",
  "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
  "",
].join("\n");

const fixture = reusableFolder((folder) => startedFeature("shop", PLAN, { "a/.keep": "", "b/.keep": "" }, folder));

const available = chromiumAvailable();
let browser: Browser | undefined;
const children: ChildProcess[] = [];
beforeAll(async () => {
  if (available) browser = await Browser.launch({ width: 900, height: 1000 });
});
afterAll(async () => {
  children.forEach((c) => c.kill("SIGKILL"));
  await browser?.close();
});

async function dashboard(repo: string): Promise<string> {
  const child = spawn(process.execPath, [HELPER, "dashboard", "demo", "--no-open"], { cwd: repo, env: gitEnv });
  children.push(child);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  let ended = false;
  child.on("exit", () => (ended = true));
  await waitUntil(() => ended || /token=\S+\n/.test(out), 60_000);
  const url = /^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/m.exec(out)?.[0];
  if (!url) throw new Error(`no address printed: ${out}`);
  return url;
}

/** What the plugin's hooks write for a task's session. */
function ledger(repo: string, task: string, change: Partial<HookRecord>): void {
  const now = new Date().toISOString();
  writeHookRecord(join(repo, ".git", "parallel", "demo"), {
    version: 1,
    task,
    state: "working",
    since: now,
    event: "UserPromptSubmit",
    at: now,
    sessionId: `s-${task}`,
    sessions: { [`s-${task}`]: { input: 1000, output: 250, cacheRead: 0, cacheWrite: 0 } },
    starts: 1,
    ...change,
  });
}

const cardState = (page: Page, id: string) =>
  page.eval<string | null>(`(() => { const h = document.getElementById("task-${id}"); return h && h.closest("article").querySelector(".badge").textContent.trim(); })()`);

describe.skipIf(!available)("the dashboard in Chromium", () => {
  it("shows the feature move as its sessions change state, without a reload; who needs you, with the command; hostile text stays text", async () => {
    const { repo, wt } = fixture();
    const page = await browser!.newPage();
    await page.goto(await dashboard(repo));
    expect(await page.waitFor(`document.body.innerText.includes("Phase 1: in progress")`), await page.text()).toBe(true);
    // Plans and sessions are untrusted text: shown as written, never run.
    expect(await page.text()).toContain(HOSTILE_FEATURE);
    expect(await page.text()).toContain("<script>window.__pwned=2</script> API");
    expect(await page.eval("window.__pwned === undefined && document.querySelectorAll('#app img, #app script').length === 0")).toBe(true);
    expect(await cardState(page, "a")).toBe("○ not started");
    expect(await page.eval(`document.getElementById("needs-you").innerText`)).toContain("start the sessions of a, b");
    await page.eval("window.__sameDocument = true");

    ledger(repo, "a", { state: "waiting for input", event: "Notification", detail: "permission for <b>Bash</b>", lastMessage: "I need <i>npm</i> to run tests" });
    ledger(repo, "b", { state: "working" });
    expect(await page.waitFor(`document.getElementById("needs-you").innerText.includes("a needs your input")`), await page.text()).toBe(true);
    expect(await page.waitFor(`document.getElementById("task-b").closest("article").innerText.includes("working")`)).toBe(true);
    expect(await cardState(page, "a")).toBe("? needs input");
    const needs = await page.eval<string>(`document.getElementById("needs-you").innerText`);
    expect(needs).toContain("permission for <b>Bash</b>");
    expect(needs).toContain(`cd -- '${wt("a")}' && claude --resume 's-a'`);
    expect(await page.text()).toContain("I need <i>npm</i> to run tests");

    // Both commit the same file: b is done, and the forecast names the file in the a/b cell.
    commitIn(wt("a"), { "shared.txt": "from a\n" }, "a's change");
    commitIn(wt("b"), { "shared.txt": "from b\n", "b/x.txt": "b\n" }, "b's change");
    ledger(repo, "b", { state: "stopped", event: "Stop" });
    expect(await page.waitFor(`[...document.querySelectorAll(".matrix td.conflict")].some((td) => td.innerText.includes("shared.txt"))`), await page.text()).toBe(true);
    expect(await page.waitFor(`document.getElementById("task-b").closest("article").querySelector(".badge").textContent.includes("done")`), await page.text()).toBe(true);
    expect(await page.eval(`document.getElementById("needs-you").innerText`)).toContain("b and a both change shared.txt");
    expect(await page.eval("window.__sameDocument")).toBe(true);

    const shot = await page.screenshot("dashboard.png");
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
  });

  it("works with the keyboard, keeps focus through updates, tells states apart in grey, fits beside a terminal", async () => {
    const { repo } = fixture();
    const page = await browser!.newPage();
    await page.goto(await dashboard(repo));
    expect(await page.waitFor(`document.querySelector("#needs-you button.copy")`), await page.text()).toBe(true);

    // Tab from the top reaches the skip link first, then the command's Copy button.
    await page.press("Tab");
    expect(await page.eval("document.activeElement.className")).toBe("skip");
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.press("Tab");
      reached = await page.eval<boolean>(`document.activeElement.matches("#needs-you button.copy")`);
    }
    expect(reached).toBe(true);
    expect(await page.eval(`getComputedStyle(document.activeElement).outlineStyle`)).toBe("solid");
    await page.press("Enter");
    expect(await page.waitFor(`document.querySelector("#needs-you .copied").textContent !== ""`)).toBe(true);
    // An update redraws the page: the focus stays on the same button.
    ledger(repo, "b", { state: "working" });
    expect(await page.waitFor(`document.getElementById("task-b").closest("article").innerText.includes("working")`)).toBe(true);
    expect(await page.eval(`document.activeElement.matches("#needs-you button.copy")`)).toBe(true);

    // Grey: two states of about the same lightness differ in their border's style.
    const badges = await page.eval<Array<{ text: string; lum: number; border: string }>>(`[...document.querySelectorAll(".legend .badge")].map((b) => {
      const s = getComputedStyle(b);
      const [r, g, bl] = s.backgroundColor.match(/[0-9.]+/g).slice(0, 3).map((v) => { const c = Number(v) / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
      return { text: b.textContent.trim(), lum: 0.2126 * r + 0.7152 * g + 0.0722 * bl, border: s.borderTopStyle };
    })`);
    expect(badges.map((b) => b.text)).toEqual(["○ not started", "● working", "? needs input", "↩ handed back", "‖ paused", "✓ done", "⇥ merged", "– skipped"]);
    for (const [i, x] of badges.entries())
      for (const y of badges.slice(i + 1)) expect(x.border !== y.border || Math.abs(x.lum - y.lum) >= 0.15, `${x.text} and ${y.text} look the same in grey`).toBe(true);

    // Half a laptop screen: no sideways scrolling.
    expect(await page.eval("document.documentElement.scrollWidth <= innerWidth")).toBe(true);
  });
});
