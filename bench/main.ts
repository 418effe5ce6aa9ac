import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { depthThenChunk, lowerBound, schedulePhases } from "../src/plan/schedule.js";
import { parseStg, stgCases } from "./stg.js";
import { benchStart } from "./start.js";
import { benchSync } from "./sync.js";
import { benchHooks } from "./hooks.js";
import { benchRolling, rollingTable } from "./rolling.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HELPER = join(ROOT, "scripts", "parallel.mjs");
const STG = process.env.STG_DIR ?? join(ROOT, "..", "shared", "bench", "stg");
const updateReadme = process.argv.includes("--update-readme");

function timeProcess(args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: "ignore" });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

function randomPlan(tasks: number, seed: number): string {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const list = Array.from({ length: tasks }, (_, i) => {
    const deps = new Set<string>();
    for (let k = 0; k < 3 && i > 0; k++) if (rand() < 0.6) deps.add(`t${Math.floor(rand() * i)}`);
    return { id: `t${i}`, title: `Task ${i}`, dependsOn: [...deps], owns: [`src/mod${i}/**`], estimate: 1 + Math.floor(rand() * 5) };
  });
  return stringify({ version: 1, feature: `Random ${tasks}`, base: "main", maxParallel: 8, tasks: list });
}

const work = mkdtempSync(join(tmpdir(), "cp-bench-"));
const lines: string[] = [];
const say = (line = "") => {
  lines.push(line);
  console.log(line);
};

try {
  spawnSync("git", ["init", "-q", "-b", "main", work]);
  // 1. Whole-process latency of `plan` on a 12-task plan, beside a bare Node start.
  const roles = ["designer", "data", "backend", "frontend", "qa", "docs"];
  const twelve = Array.from({ length: 12 }, (_, i) => ({
    id: `${roles[i % 6]}-${Math.floor(i / 6) + 1}`,
    title: `Part ${i + 1} of the feature`,
    owns: [`src/part${i}/`],
    dependsOn: i >= 6 ? [`${roles[(i - 6) % 6]}-1`] : [],
    estimate: 1 + (i % 3),
  }));
  writeFileSync(join(work, "plan12.yaml"), stringify({ version: 1, feature: "Twelve tasks", base: "main", tasks: twelve }));
  const runs = 40;
  const bare: number[] = [];
  const plan: number[] = [];
  timeProcess([HELPER, "plan", "plan12.yaml", "--no-write"], work); // warm the file cache
  for (let i = 0; i < runs; i++) {
    bare.push(timeProcess(["-e", "0"], work));
    plan.push(timeProcess([HELPER, "plan", "plan12.yaml", "--no-write"], work));
  }
  say("### Latency of `plan` (whole process)");
  say();
  say(`| run | median ms | ratio to bare Node |`);
  say(`| --- | ---: | ---: |`);
  say(`| \`node -e 0\` | ${f1(median(bare))} | 1.00 |`);
  say(`| \`node scripts/parallel.mjs plan\` (12 tasks) | ${f1(median(plan))} | ${f2(median(plan) / median(bare))} |`);
  say();
  say("Aim: at most 2x a bare Node start. Most of the difference is parsing the plan (the yaml and zod modules, about 13 ms cold), one git process for the repository's root and branch, and scheduling.");
  say();

  // 1b. Whole-process latency of each plugin hook (src/hooks/).
  const hooks = benchHooks(HELPER, work);
  say("### Latency of the plugin's hooks (whole process)");
  say();
  say("`node scripts/parallel.mjs _hook <event>` with a sample input on stdin; 8-task plan; Stop and SessionEnd sum a 200-message transcript. Median of 30.");
  say();
  say("| hook | where | median ms | ratio to bare Node |");
  say("| --- | --- | ---: | ---: |");
  say(`| \`node -e 0\` | | ${f1(hooks.bare)} | 1.00 |`);
  for (const r of hooks.rows) say(`| ${r.event} | ${r.where} | ${f1(r.ms)} | ${f2(r.ms / hooks.bare)} |`);
  say();
  say("Aim: under 100 ms each. Outside a task worktree a hook loads only the entry, the command dispatcher and a 1 KiB chunk that looks for the manifest; in one it adds the hook code (JSON, zod/mini for the manifest's schema, the owned-path matcher): no YAML, no plan building, no git.");
  say();

  // 2. A 5,000-task random plan.
  writeFileSync(join(work, "plan5000.yaml"), randomPlan(5000, 7));
  const big: number[] = [];
  for (let i = 0; i < 5; i++) big.push(timeProcess([HELPER, "plan", "plan5000.yaml", "--no-write", "--json"], work));
  const out = spawnSync(process.execPath, [HELPER, "plan", "plan5000.yaml", "--no-write", "--json"], { cwd: work, encoding: "utf8", maxBuffer: 1 << 28 });
  const json = JSON.parse(out.stdout);
  say("### A 5,000-task random plan");
  say();
  say(`Whole process, median of 5: **${f1(median(big))} ms** (aim: under 1000 ms). ${json.phases.length} phases at maxParallel 8; length ${json.length}, lower bound ${json.lowerBound}.`);
  say();

  // 3. Time to a ready 4-task phase with real dependencies.
  const start = benchStart(ROOT, HELPER, work);
  say("### Time to a ready 4-task phase");
  say();
  say(`A repository with ${start.packages} installed packages (this project's own lockfile); each worktree needs working dependencies. Median of 3 runs each.`);
  say();
  say("| method | seconds | speed-up |");
  say("| --- | ---: | ---: |");
  say(`| \`git worktree add\` + \`npm ci\` in each worktree | ${f1(start.plain / 1000)} | 1.0x |`);
  say(`| \`claude-parallel start\` (copies the installed tree) | ${f1(start.ours / 1000)} | ${f1(start.plain / start.ours)}x |`);
  say();

  // 4. Syncing 8 branches in a repository of 20,000 files.
  const sync = benchSync(HELPER, work);
  say("### Syncing 8 branches in a 20,000-file repository");
  say();
  say("Each branch changes 5 files. Median of 3 runs each.");
  say();
  say("| method | seconds | speed-up |");
  say("| --- | ---: | ---: |");
  say(`| check out the integration branch (\`git worktree add\`) + \`git merge\` per branch | ${f2(sync.plain / 1000)} | 1.0x |`);
  say(`| \`claude-parallel sync\` (preflight checks, in-memory merges, compare-and-swap publish) | ${f2(sync.ours / 1000)} | ${f1(sync.plain / sync.ours)}x |`);
  say();

  // 5. Schedule quality on the Standard Task Graph set.
  if (existsSync(STG)) {
    const cache = new Map<string, ReturnType<typeof parseStg>>();
    const groups = new Map<string, { ours: number[]; naive: number[]; bound: number[] }>();
    for (const c of stgCases(STG)) {
      let graph = cache.get(c.file);
      if (!graph) cache.set(c.file, (graph = parseStg(readFileSync(join(STG, c.file), "utf8"))));
      const key = `${c.size}|${c.k}`;
      const g = groups.get(key) ?? { ours: [], naive: [], bound: [] };
      groups.set(key, g);
      g.ours.push(schedulePhases(graph, c.k).length / c.optimum);
      g.naive.push(depthThenChunk(graph, c.k).length / c.optimum);
      g.bound.push(lowerBound(graph, c.k) / c.optimum);
    }
    say("### Schedule quality on the Standard Task Graph set");
    say();
    say("Phase-schedule length divided by the known optimal (barrier-free) schedule length; lower is better.");
    say("Phases wait for each other at sync points, so 1.00 is out of reach whenever estimates differ.");
    say();
    say("| tasks | k | graphs | ours, mean | ours, worst | depth-then-chunk, mean | depth-then-chunk, worst | lower bound, mean |");
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    const keys = [...groups.keys()].sort((a, b) => {
      const [sa, ka] = a.split("|").map(Number);
      const [sb, kb] = b.split("|").map(Number);
      return sa! - sb! || ka! - kb!;
    });
    for (const key of keys) {
      const [size, k] = key.split("|");
      const g = groups.get(key)!;
      say(`| ${size} | ${k} | ${g.ours.length} | ${f2(mean(g.ours))} | ${f2(Math.max(...g.ours))} | ${f2(mean(g.naive))} | ${f2(Math.max(...g.naive))} | ${f2(mean(g.bound))} |`);
    }
    say();

    // 6. The same graphs run without barriers (`run --rolling`), simulated.
    for (const line of rollingTable(benchRolling(STG))) say(line);
  } else {
    say(`(STG benchmark data not found at ${STG}; set STG_DIR.)`);
  }
  say(`Measured on ${process.platform}-${process.arch}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`);

  if (updateReadme) {
    const readme = join(ROOT, "README.md");
    const text = readFileSync(readme, "utf8");
    const start = "<!-- bench:start -->";
    const end = "<!-- bench:end -->";
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i < 0 || j < i) throw new Error("README.md has no bench markers");
    writeFileSync(readme, `${text.slice(0, i + start.length)}\n${lines.join("\n")}\n${text.slice(j)}`);
    console.log("\nUpdated README.md");
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
