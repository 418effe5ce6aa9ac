import type { DashboardFeature, FeatureError, NeedsYou, PhaseView, Snapshot, TaskCard } from "./view.js";

/**
 * The page's script. It runs in the browser, not in Node: page.ts puts its source text into the
 * page (`dashboardClient.toString()`), so everything it uses is declared inside it. It draws the
 * snapshots the server sends with DOM nodes and text nodes only (no HTML is ever parsed from
 * data: every text from plans, sessions and git stays text), and keeps focus and open details
 * across redraws, so a keyboard user is not thrown back to the top by an update.
 */
export function dashboardClient(): void {
  type Child = Node | string | false | undefined | null;
  type Attrs = Record<string, string | boolean | undefined | ((event: Event) => void)>;

  const token = new URLSearchParams(location.search).get("token") ?? "";
  const app = document.getElementById("app")!;
  const connection = document.getElementById("connection")!;
  const announce = document.getElementById("announce")!;
  let snapshot: Snapshot | undefined;
  let lastAnnounced = "";

  function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (typeof value === "function") el.addEventListener(name.slice(2), value);
      else if (value === true) el.setAttribute(name, "");
      else if (typeof value === "string") el.setAttribute(name, value);
    }
    for (const child of children) if (child !== false && child !== undefined && child !== null) el.append(typeof child === "string" ? document.createTextNode(child) : child);
    return el;
  }

  const GLYPHS: Record<string, string> = {
    "not started": "○",
    working: "●",
    "needs input": "?",
    "handed back": "↩",
    paused: "‖",
    done: "✓",
    merged: "⇥",
    skipped: "–",
  };
  const stateClass = (state: string) => `s-${state.replace(/ /g, "-")}`;
  const badge = (state: string) => h("span", { class: `badge ${stateClass(state)}` }, h("span", { "aria-hidden": "true" }, GLYPHS[state] ?? ""), ` ${state}`);
  const usd = (x: number) => `$${x > 0 && x < 0.01 ? x.toFixed(4) : x.toFixed(2)}`;
  const num = (x: number) => x.toLocaleString("en-US");
  const clock = (iso: string | undefined) => (iso ? iso.replace("T", " ").slice(0, 19) : "");
  const isError = (f: DashboardFeature | FeatureError): f is FeatureError => "error" in f;

  function duration(ms: number): string {
    const s = Math.max(0, Math.floor(ms / 1000));
    const hours = Math.floor(s / 3600);
    const minutes = Math.floor((s % 3600) / 60);
    return hours ? `${hours}h ${String(minutes).padStart(2, "0")}m` : `${minutes}m ${String(s % 60).padStart(2, "0")}s`;
  }

  /** The run time of each task, counted live from its recorded start (and end). */
  function tick(): void {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-start]"))) {
      const start = Date.parse(el.dataset.start!);
      const end = el.dataset.end ? Date.parse(el.dataset.end) : Date.now();
      el.textContent = Number.isNaN(start) ? "" : duration(end - start);
    }
  }

  async function copy(text: string, button: HTMLElement, code: HTMLElement): Promise<void> {
    const status = button.nextElementSibling as HTMLElement;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Copied.";
    } catch {
      // No clipboard here (permissions): select the command, for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      status.textContent = "Selected: press Ctrl+C to copy.";
    }
  }

  function commandLine(command: string, key: string): HTMLElement {
    const code = h("code", { class: "command" }, command);
    const button = h("button", { type: "button", class: "copy", "data-key": `copy:${key}`, "aria-label": `Copy the command: ${command}` }, "Copy");
    button.addEventListener("click", () => void copy(command, button, code));
    return h("div", { class: "command-line" }, code, button, h("span", { class: "copied", role: "status" }));
  }

  function needsYouSection(f: DashboardFeature): HTMLElement {
    const items = f.needsYou;
    return h(
      "section",
      { id: "needs-you", class: `needs-you${items.length ? " has-items" : ""}`, "aria-labelledby": "needs-you-title" },
      h("h2", { id: "needs-you-title" }, items.length ? `Needs you (${items.length})` : "Needs you: nothing"),
      items.length
        ? h(
            "ol",
            { class: "needs" },
            ...items.map((item: NeedsYou, i: number) =>
              h(
                "li",
                {},
                h("p", { class: "need-title" }, item.title),
                item.detail ? h("p", { class: "need-detail" }, item.detail) : false,
                commandLine(item.command, `${f.slug}:${i}:${item.command}`),
              ),
            ),
          )
        : h("p", { class: "quiet" }, f.run?.running ? "The run is carrying the feature: nothing waits for you." : "Nothing waits for you."),
    );
  }

  function taskCard(t: TaskCard): HTMLElement {
    const facts: Array<[string, Child]> = [
      ["Attempts", String(t.attempts)],
      ["Tokens", num(t.tokens)],
      ["Cost", t.costUsd !== undefined ? usd(t.costUsd) : "not reported"],
      ["Time", t.startedAt ? h("span", { "data-start": t.startedAt, ...(t.endedAt && { "data-end": t.endedAt }) }) : "not started"],
      ["Commits", t.ahead ? `${t.ahead} ahead` : "none yet"],
    ];
    if (t.uncommitted) facts.push(["Uncommitted", `${t.uncommitted} ${t.uncommitted === 1 ? "file" : "files"}`]);
    if (t.waitsFor.length) facts.push(["Waits for", t.waitsFor.join(", ")]);
    if (t.lastCommit) facts.push(["Last commit", t.lastCommit]);
    return h(
      "article",
      { class: `task ${stateClass(t.state)}${t.critical ? " critical" : ""}`, "aria-labelledby": `task-${t.id}` },
      h("header", {}, h("h4", { id: `task-${t.id}` }, t.id, h("span", { class: "role" }, ` ${t.role}`)), badge(t.state)),
      h("p", { class: "title" }, t.title),
      t.critical ? h("p", { class: "critical-mark" }, "★ on the critical path") : false,
      t.why ? h("p", { class: "why" }, t.why) : false,
      h("dl", {}, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      t.lastMessage ? h("p", { class: "message" }, h("span", { class: "label" }, "Last message: "), t.lastMessage) : false,
      t.requests.length ? h("div", { class: "requests" }, h("p", { class: "label" }, "Asks other tasks:"), h("ul", {}, ...t.requests.map((r) => h("li", {}, r)))) : false,
      t.outsideOwns.length ? h("p", { class: "why" }, `Changed outside its owned paths: ${t.outsideOwns.join(", ")}`) : false,
    );
  }

  /** The plan as a graph by phase: a column per phase, a box per task, a line per dependency. */
  function graph(f: DashboardFeature): HTMLElement {
    const NS = "http://www.w3.org/2000/svg";
    const W = 150;
    const H = 40;
    const GAP_X = 50;
    const GAP_Y = 14;
    const where = new Map<string, { x: number; y: number }>();
    f.phases.forEach((p, i) => p.tasks.forEach((t, k) => where.set(t.id, { x: 8 + i * (W + GAP_X), y: 28 + k * (H + GAP_Y) })));
    const rows = Math.max(1, ...f.phases.map((p) => p.tasks.length));
    const width = 16 + f.phases.length * (W + GAP_X) - GAP_X;
    const height = 36 + rows * (H + GAP_Y);
    const svg = document.createElementNS(NS, "svg");
    const s = (tag: string, attrs: Record<string, string | number>, text?: string) => {
      const el = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
      if (text !== undefined) el.textContent = text;
      return el;
    };
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("aria-hidden", "true");
    f.phases.forEach((p, i) => svg.append(s("text", { x: 8 + i * (W + GAP_X), y: 16, class: "phase-label" }, `Phase ${p.index}: ${p.state}`)));
    const critical = new Set(f.criticalPath.slice(1).map((id, i) => `${f.criticalPath[i]}>${id}`));
    for (const t of f.phases.flatMap((p) => p.tasks)) {
      const to = where.get(t.id)!;
      for (const dep of t.waitsFor) {
        const from = where.get(dep);
        if (!from) continue;
        const x1 = from.x + W;
        const y1 = from.y + H / 2;
        const x2 = to.x;
        const y2 = to.y + H / 2;
        svg.append(s("path", { d: `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`, class: `edge${critical.has(`${dep}>${t.id}`) ? " critical" : ""}` }));
      }
    }
    for (const t of f.phases.flatMap((p) => p.tasks)) {
      const at = where.get(t.id)!;
      const g = s("g", { class: `node ${stateClass(t.state)}${t.critical ? " critical" : ""}` });
      g.append(s("rect", { x: at.x, y: at.y, width: W, height: H, rx: 5 }));
      g.append(s("text", { x: at.x + 8, y: at.y + 16 }, `${GLYPHS[t.state] ?? ""} ${t.id}`.slice(0, 22)));
      g.append(s("text", { x: at.x + 8, y: at.y + 32, class: "node-state" }, t.state));
      svg.append(g);
    }
    const summary = f.phases.map((p) => `phase ${p.index} (${p.state}): ${p.tasks.map((t) => `${t.id} ${t.state}`).join(", ")}`).join("; ");
    return h(
      "figure",
      { class: "graph" },
      h("div", { class: "scroll", role: "img", "aria-label": `The plan by phase: ${summary}` }, svg),
      h("figcaption", {}, `Critical path: ${f.criticalPath.join(" → ") || "none"} (plan length ${f.length})`),
    );
  }

  function conflictMatrix(p: PhaseView): HTMLElement {
    const ids = p.tasks.filter((t) => t.state !== "skipped").map((t) => t.id);
    if (p.conflicts.some((c) => c.with.includes("elsewhere"))) ids.push("elsewhere");
    const cell = (a: string, b: string) => {
      const c = p.conflicts.find((x) => (x.task === a && x.with.includes(b)) || (x.task === b && x.with.includes(a)));
      return c ? h("td", { class: "conflict" }, h("ul", {}, ...c.files.map((file) => h("li", {}, file)))) : h("td", { class: a === b ? "self" : "none" }, a === b ? "" : "—");
    };
    const title = `Phase ${p.index}: ${p.conflicts.length ? `${p.conflicts.length} predicted ${p.conflicts.length === 1 ? "conflict" : "conflicts"}` : "no conflict predicted"}`;
    return h(
      "div",
      {},
      h("h3", { id: `matrix-${p.index}` }, title),
      h(
        "div",
        { class: "scroll", tabindex: "0", role: "region", "aria-labelledby": `matrix-${p.index}` },
        h(
          "table",
          { class: "matrix", "aria-labelledby": `matrix-${p.index}` },
          h("thead", {}, h("tr", {}, h("td", {}), ...ids.map((id) => h("th", { scope: "col" }, id)))),
          h("tbody", {}, ...ids.map((a) => h("tr", {}, h("th", { scope: "row" }, a), ...ids.map((b) => cell(a, b))))),
        ),
      ),
    );
  }

  function table(caption: string, head: string[], rows: Child[][]): HTMLElement {
    return h(
      "div",
      { class: "scroll", tabindex: "0", role: "region", "aria-label": caption },
      h(
        "table",
        {},
        h("caption", {}, caption),
        h("thead", {}, h("tr", {}, ...head.map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
      ),
    );
  }

  function syncsSection(f: DashboardFeature): HTMLElement {
    const phases = table(
      "Syncs",
      ["Phase", "State", "Started", "Synced", "Merged commit", "Verified with"],
      f.phases.map((p) => [String(p.index), p.readyToSync ? "ready to sync" : p.state, clock(p.startedAt), clock(p.syncedAt), p.mergedCommit?.slice(0, 12) ?? "", p.verifiedWith ?? ""]),
    );
    const outcomes = f.syncEvents.length
      ? h("ol", { class: "events" }, ...f.syncEvents.slice(-30).map((e) => h("li", {}, h("time", {}, clock(e.at)), " ", e.text)))
      : h("p", { class: "quiet" }, "No sync or merge event from a run yet.");
    const verifies = f.verifyRuns.length
      ? table(
          "Verify runs",
          ["Task", "Command", "Result", "Commit", "Output"],
          f.verifyRuns.map((v) => [
            v.task,
            h("code", {}, v.command),
            v.result === "failed" ? `failed (exit ${v.exitCode})` : v.result,
            v.commit ? `${v.commit}${v.current === false ? " (branch moved since)" : ""}` : "",
            v.outputTail ? h("details", { "data-key": `verify:${f.slug}:${v.task}` }, h("summary", {}, "output"), h("pre", {}, v.outputTail)) : "",
          ]),
        )
      : h("p", { class: "quiet" }, "No task has a verify command.");
    return h("section", { "aria-labelledby": "syncs-title" }, h("h2", { id: "syncs-title" }, "Syncs and verify runs"), phases, h("h3", {}, "Outcomes (from the run)"), outcomes, verifies);
  }

  function runSection(f: DashboardFeature): HTMLElement {
    const events = [...f.events].reverse();
    return h(
      "section",
      { "aria-labelledby": "run-title" },
      h("h2", { id: "run-title" }, f.run ? `Run: ${f.run.state}` : "Run: never ran"),
      f.run ? h("p", { class: "quiet" }, "Every event: ", h("code", {}, f.run.events)) : h("p", { class: "quiet" }, "claude-parallel run was not used for this feature."),
      events.length
        ? h(
            "ol",
            { class: "events log", reversed: true, tabindex: "0", "aria-label": "Run events, newest first" },
            ...events.map((e) => h("li", {}, h("time", {}, clock(e.at)), " ", h("span", { class: "event-kind" }, e.event), " ", e.text)),
          )
        : false,
    );
  }

  function legend(): HTMLElement {
    return h("section", { class: "legend", "aria-label": "Task states" }, h("h2", {}, "States"), h("ul", {}, ...Object.keys(GLYPHS).map((state) => h("li", {}, badge(state)))));
  }

  function featureView(f: DashboardFeature): HTMLElement {
    const totals = f.totals;
    const tokens = totals.tokens.input + totals.tokens.output + totals.tokens.cacheRead + totals.tokens.cacheWrite;
    return h(
      "div",
      { class: "feature" },
      h("h1", {}, f.feature, h("span", { class: "slug" }, ` (${f.slug})`)),
      h(
        "p",
        { class: "quiet" },
        `Integration branch ${f.integrationBranch}, base ${f.base}. ${f.finishedAt ? `Finished ${clock(f.finishedAt)}. ` : ""}${num(totals.attempts)} attempts, ${num(tokens)} tokens, ${f.cost}.`,
      ),
      needsYouSection(f),
      h("section", { "aria-labelledby": "plan-title" }, h("h2", { id: "plan-title" }, "Plan"), graph(f)),
      ...f.phases.map((p) =>
        h(
          "section",
          { class: `phase p-${p.state.replace(/ /g, "-")}`, "aria-labelledby": `phase-${p.index}` },
          h("h3", { id: `phase-${p.index}` }, `Phase ${p.index}: ${p.state === "started" ? (p.readyToSync ? "ready to sync" : "in progress") : p.state}`),
          h("div", { class: "tasks" }, ...p.tasks.map(taskCard)),
        ),
      ),
      h(
        "section",
        { "aria-labelledby": "conflicts-title" },
        h("h2", { id: "conflicts-title" }, "Conflict forecast"),
        ...(f.phases.some((p) => p.state === "started") ? f.phases.filter((p) => p.state === "started").map(conflictMatrix) : [h("p", { class: "quiet" }, "No phase in progress.")]),
      ),
      syncsSection(f),
      runSection(f),
    );
  }

  function render(): void {
    if (!snapshot) return;
    const features = snapshot.features;
    const hash = decodeURIComponent(location.hash.slice(1));
    const current = features.find((f) => f.slug === hash) ?? features.find((f) => f.slug === snapshot!.chosen) ?? features[0];
    const focused = document.activeElement?.getAttribute("data-key");
    const open = new Set(Array.from(document.querySelectorAll("details[open]")).map((d) => d.getAttribute("data-key")));
    const nav = h(
      "nav",
      { "aria-label": "Features" },
      h(
        "ul",
        {},
        ...features.map((f) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: `#${encodeURIComponent(f.slug)}`, "data-key": `feature:${f.slug}`, ...(f === current && { "aria-current": "page" }) },
              f.slug,
              !isError(f) && f.needsYou.length ? h("span", { class: "count" }, ` ${f.needsYou.length} need you`) : false,
            ),
          ),
        ),
      ),
    );
    const body = !current
      ? h("p", {}, "No feature has started in this repository yet: plan one with /parallel, then claude-parallel start.")
      : isError(current)
        ? h("div", { class: "feature" }, h("h1", {}, current.slug || "claude-parallel"), h("p", { class: "error", role: "alert" }, current.error))
        : featureView(current);
    app.replaceChildren(h("header", { class: "top" }, h("p", { class: "repo" }, snapshot.repository), nav), body, legend());
    for (const d of Array.from(document.querySelectorAll("details"))) if (open.has(d.getAttribute("data-key"))) (d as HTMLDetailsElement).open = true;
    if (focused) (document.querySelector(`[data-key="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
    tick();
    const count = current && !isError(current) ? current.needsYou.length : 0;
    const said = count ? `${count} ${count === 1 ? "thing needs" : "things need"} you` : "Nothing needs you";
    if (said !== lastAnnounced) announce.textContent = lastAnnounced = said;
    document.title = `${count ? `(${count}) ` : ""}${current ? current.slug : "claude-parallel"}: dashboard`;
  }

  const events = new EventSource(`/events?token=${encodeURIComponent(token)}`);
  events.addEventListener("snapshot", (event) => {
    snapshot = JSON.parse((event as MessageEvent<string>).data) as Snapshot;
    connection.textContent = `Live, updated ${new Date().toLocaleTimeString()}`;
    render();
  });
  events.addEventListener("open", () => (connection.textContent = "Live"));
  events.addEventListener("error", () => (connection.textContent = "Reconnecting… (is claude-parallel dashboard still running?)"));
  addEventListener("hashchange", render);
  setInterval(tick, 1000);
}
