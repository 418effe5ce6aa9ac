import { createHash } from "node:crypto";
import { dashboardClient } from "./client.js";

/** The one page: HTML, its style and its script in one answer, nothing fetched from elsewhere. */
export interface DashboardPage {
  html: string;
  /** Only this page's own script and style run (by their hashes); it connects only to its server. */
  csp: string;
}

/**
 * State colours are told apart in grey too: each state has its own text and glyph, and states
 * of about the same lightness have different border styles (solid, dashed, double, dotted).
 * Sized for a laptop half beside a terminal: one column from 20rem up, no horizontal scroll.
 */
const STYLE = `
:root { color-scheme: light; --fg: #111827; --muted: #4b5563; --line: #d1d5db; --bg: #ffffff; --panel: #f9fafb; --focus: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: #fff; padding: .4rem .8rem; z-index: 2; }
.skip:focus { left: .5rem; }
main { max-width: 72rem; margin: 0 auto; padding: .75rem 1rem 3rem; }
h1 { font-size: 1.35rem; margin: .5rem 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
h4 { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
p { margin: .25rem 0; }
code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); padding: .5rem; margin: .25rem 0; max-height: 20rem; overflow: auto; }
.quiet, .slug, .role { color: var(--muted); }
.status-bar { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; justify-content: space-between; border-bottom: 1px solid var(--line); padding-bottom: .4rem; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
.repo { font-weight: 600; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem .75rem; margin: 0; padding: 0; }
nav a { color: #1e3a8a; overflow-wrap: anywhere; }
nav a[aria-current="page"] { font-weight: 700; color: var(--fg); text-decoration: none; border-bottom: 3px solid var(--fg); }
.count { color: #92400e; font-weight: 600; }
a:focus-visible, button:focus-visible, summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.needs-you { border: 2px solid var(--line); border-radius: 6px; padding: .25rem .9rem .75rem; margin-top: 1rem; }
.needs-you.has-items { border: 3px solid #111827; background: #fffbeb; }
.needs-you h2 { border: 0; margin-top: .6rem; }
.needs { margin: 0; padding-left: 1.4rem; }
.needs li { margin: .5rem 0 .9rem; }
.need-title { font-weight: 600; overflow-wrap: anywhere; }
.need-detail { color: #374151; overflow-wrap: anywhere; }
.command-line { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin-top: .25rem; }
.command { background: #111827; color: #f9fafb; padding: .3rem .5rem; border-radius: 4px; overflow-wrap: anywhere; flex: 1 1 16rem; }
button { font: inherit; padding: .25rem .8rem; border: 2px solid #111827; border-radius: 4px; background: #fff; color: #111827; cursor: pointer; }
button:hover { background: #f3f4f6; }
.copied { color: var(--muted); font-size: .9em; }
.tasks { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: .6rem; }
.task { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: .5rem .7rem; background: var(--bg); min-width: 0; }
.task.critical { box-shadow: inset 0 0 0 1px #111827; }
.task header { display: flex; justify-content: space-between; gap: .5rem; align-items: flex-start; }
.task .title { overflow-wrap: anywhere; }
.task dl { display: grid; grid-template-columns: auto 1fr; gap: 0 .6rem; margin: .4rem 0; font-size: .92em; }
.task dt { color: var(--muted); }
.task dd { margin: 0; overflow-wrap: anywhere; }
.why { color: #7c2d12; overflow-wrap: anywhere; }
.critical-mark { font-size: .9em; font-weight: 600; }
.message, .requests { font-size: .92em; overflow-wrap: anywhere; }
.requests ul { margin: .1rem 0; padding-left: 1.2rem; }
.label { color: var(--muted); }
.badge { display: inline-block; white-space: nowrap; border-radius: 999px; padding: 0 .55rem; font-size: .85em; font-weight: 600; border: 2px solid transparent; }
.s-not-started { background: #ffffff; color: #374151; border: 2px dotted #374151; }
.s-working { background: #1e40af; color: #ffffff; border: 2px solid #1e40af; }
.s-needs-input { background: #fbbf24; color: #111827; border: 2px solid #111827; }
.s-handed-back { background: #6b21a8; color: #ffffff; border: 4px double #ffffff; }
.s-paused { background: #d1d5db; color: #111827; border: 2px dashed #111827; }
.s-done { background: #bbf7d0; color: #14532d; border: 2px solid #14532d; }
.s-merged { background: #14532d; color: #ffffff; border: 2px dashed #ffffff; }
.s-skipped { background: #f3f4f6; color: #4b5563; border: 2px dashed #4b5563; text-decoration: line-through; }
.task.s-not-started, .task.s-working, .task.s-needs-input, .task.s-handed-back, .task.s-paused, .task.s-done, .task.s-merged, .task.s-skipped { background: var(--bg); color: var(--fg); text-decoration: none; border-width: 1px 1px 1px 6px; }
.task.s-needs-input { border-left-color: #111827; background: #fffbeb; }
.task.s-working { border-left-color: #1e40af; }
.task.s-handed-back { border-left-color: #6b21a8; border-left-style: double; }
.task.s-paused { border-left-style: dashed; border-left-color: #4b5563; }
.task.s-done { border-left-color: #15803d; }
.task.s-merged { border-left-color: #14532d; border-left-style: dashed; }
.task.s-skipped { border-left-color: #9ca3af; border-left-style: dashed; }
.task.s-not-started { border-left-style: dotted; border-left-color: #6b7280; }
.graph { margin: 0; }
.graph svg { display: block; font: 12px system-ui, sans-serif; }
.graph .phase-label { fill: #374151; font-weight: 600; }
.graph .edge { fill: none; stroke: #9ca3af; stroke-width: 1.5; }
.graph .edge.critical { stroke: #111827; stroke-width: 3; }
.graph .node rect { stroke-width: 2; }
.graph .node.critical rect { stroke-width: 4; }
.graph .node text { fill: currentColor; }
.graph .node.s-not-started { color: #374151; } .graph .node.s-not-started rect { fill: #fff; stroke: #374151; stroke-dasharray: 2 3; }
.graph .node.s-working { color: #fff; } .graph .node.s-working rect { fill: #1e40af; stroke: #111827; }
.graph .node.s-needs-input { color: #111827; } .graph .node.s-needs-input rect { fill: #fbbf24; stroke: #111827; }
.graph .node.s-handed-back { color: #fff; } .graph .node.s-handed-back rect { fill: #6b21a8; stroke: #111827; stroke-dasharray: 8 2 2 2; }
.graph .node.s-paused { color: #111827; } .graph .node.s-paused rect { fill: #d1d5db; stroke: #111827; stroke-dasharray: 6 3; }
.graph .node.s-done { color: #14532d; } .graph .node.s-done rect { fill: #bbf7d0; stroke: #14532d; }
.graph .node.s-merged { color: #fff; } .graph .node.s-merged rect { fill: #14532d; stroke: #111827; stroke-dasharray: 6 3; }
.graph .node.s-skipped { color: #4b5563; } .graph .node.s-skipped rect { fill: #f3f4f6; stroke: #4b5563; stroke-dasharray: 6 3; }
figcaption { font-size: .92em; margin-top: .3rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .4rem 0; font-size: .92em; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: var(--panel); }
.matrix td.conflict { background: #fee2e2; border: 2px solid #7f1d1d; }
.matrix td.conflict ul { margin: 0; padding-left: 1rem; }
.matrix td.self { background: #e5e7eb; }
.matrix td.none { color: var(--muted); text-align: center; }
.events { padding-left: 1.4rem; margin: .3rem 0; }
.events.log { max-height: 24rem; overflow: auto; border: 1px solid var(--line); padding: .4rem .4rem .4rem 2.2rem; }
.events li { overflow-wrap: anywhere; }
.events time { color: var(--muted); font-variant-numeric: tabular-nums; }
.event-kind { font-weight: 600; }
.error { color: #7f1d1d; font-weight: 600; overflow-wrap: anywhere; }
.legend ul { list-style: none; display: flex; flex-wrap: wrap; gap: .4rem; padding: 0; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** The page, with its script's and style's hashes in its Content-Security-Policy. */
export function dashboardPage(): DashboardPage {
  const script = `(${dashboardClient.toString()})();`;
  const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
  const html = [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    "<title>claude-parallel: dashboard</title>",
    '<link rel="icon" href="data:,">',
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    '<a class="skip" href="#needs-you">Skip to what needs you</a>',
    "<main>",
    '<div class="status-bar"><span>claude-parallel dashboard (read-only)</span><span id="connection" role="status">Connecting…</span></div>',
    '<div id="announce" class="visually-hidden" aria-live="polite"></div>',
    '<div id="app"><p>Loading the features…</p></div>',
    "</main>",
    `<script>${script}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
  const csp = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(STYLE)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, csp };
}
