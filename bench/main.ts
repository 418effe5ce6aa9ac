import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { depthThenChunk, lowerBound, schedulePhases } from "../src/core/plan/schedule.js";
import { parseStg, stgCases } from "./stg.js";
import { benchStart } from "./start.js";
import { benchSyncCase } from "./sync.js";
import { benchHooks } from "./hooks.js";
import { benchRolling, rollingTable } from "./rolling.js";
import { benchCalls } from "./calls.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HELPER = join(ROOT, "plugin", "scripts", "parallel.mjs");
const STG = process.env.STG_DIR ?? join(ROOT, "..", "shared", "bench", "stg");
/** `--update-readme` (`npm run bench:readme`): also write the tables into docs/benchmarks.md, between its markers. */
const updateDocs = process.argv.includes("--update-readme");
/** `--quick` (or BENCH_QUICK=1): fewer rounds, no 32-branch or 100,000-file sync, one start round. */
const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";

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
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
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
  say(
    `Whole-process times are medians, each beside a bare Node start (\`node -e 0\`) measured in the same rounds; on a loaded machine read the ratios.${quick ? " Quick run (`--quick`): fewer rounds and sizes." : ""}`,
  );
  say();

  // 1. Whole-process latency of `plan`, 12 to 5,000 tasks, beside a bare Node start.
  const roles = ["designer", "data", "backend", "frontend", "qa", "docs"];
  const twelve = Array.from({ length: 12 }, (_, i) => ({
    id: `${roles[i % 6]}-${Math.floor(i / 6) + 1}`,
    title: `Part ${i + 1} of the feature`,
    owns: [`src/part${i}/`],
    dependsOn: i >= 6 ? [`${roles[(i - 6) % 6]}-1`] : [],
    estimate: 1 + (i % 3),
  }));
  writeFileSync(join(work, "plan12.yaml"), stringify({ version: 1, feature: "Twelve tasks", base: "main", tasks: twelve }));
  const sizes: Array<[number, number]> = [
    [12, quick ? 15 : 40],
    [50, quick ? 7 : 20],
    [200, quick ? 7 : 15],
    [1000, quick ? 5 : 9],
    [5000, quick ? 3 : 5],
  ];
  say("### `plan` (whole process)");
  say();
  say("`node plugin/scripts/parallel.mjs plan <file> --no-write --json`: 12 tasks (six roles, the second six each depending on one of the first), then random plans (maxParallel 8).");
  say();
  say("| tasks | median ms | `node -e 0` ms | ratio | phases | length / lower bound |");
  say("| ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const [n, runs] of sizes) {
    const file = `plan${n}.yaml`;
    if (n !== 12) writeFileSync(join(work, file), randomPlan(n, 7));
    const args = [HELPER, "plan", file, "--no-write", "--json"];
    const bare: number[] = [];
    const ours: number[] = [];
    timeProcess(args, work); // warm the file cache
    for (let i = 0; i < runs; i++) {
      bare.push(timeProcess(["-e", "0"], work));
      ours.push(timeProcess(args, work));
    }
    const json = JSON.parse(spawnSync(process.execPath, args, { cwd: work, encoding: "utf8", maxBuffer: 1 << 28 }).stdout);
    say(`| ${n.toLocaleString("en-US")} | ${f1(median(ours))} | ${f1(median(bare))} | ${f2(median(ours) / median(bare))} | ${json.phases.length} | ${json.length} / ${json.lowerBound} |`);
  }
  say();
  say("Aims: 12 tasks at most 1.5x a bare Node start; 5,000 tasks under 300 ms.");
  say();

  // 1b. Whole-process latency of each plugin hook (src/hooks/).
  const hooks = benchHooks(HELPER, work, quick ? 10 : 30);
  say("### The plugin's hooks (whole process)");
  say();
  say(
    `\`node plugin/scripts/parallel.mjs _hook <event>\` with a sample input on stdin; one phase of 8 tasks; Stop and SessionEnd sum a 200-message transcript. Median of ${quick ? 10 : 30}. Only a Stop that may be its phase's last starts git (is each unchecked worktree clean, has it commits: a \`git status\` per worktree, side by side, then one \`git rev-list\`), for the phase-done notice; git processes counted by a logging \`git\` on the PATH.`,
  );
  say();
  say("| hook | where | median ms | ratio to bare Node | git processes |");
  say("| --- | --- | ---: | ---: | ---: |");
  say(`| \`node -e 0\` | | ${f1(hooks.bare)} | 1.00 | 0 |`);
  for (const r of hooks.rows) say(`| ${r.event} | ${r.where} | ${f1(r.ms)} | ${f2(r.ms / hooks.bare)} | ${r.gitProcesses} |`);
  say();
  say("Aim: at most 1.5x a bare Node start.");
  say();

  // 1c. status and context with 8 live task worktrees.
  const calls = benchCalls(HELPER, work, quick ? 7 : 15);
  say("### `status` and `context` with 8 live task worktrees (whole process)");
  say();
  say("Each task branch has one commit; git processes counted by a logging `git` on the PATH (independent of load).");
  say();
  say("| call | median ms | ratio to bare Node | git processes |");
  say("| --- | ---: | ---: | ---: |");
  say(`| \`node -e 0\` | ${f1(calls.bare)} | 1.00 | 0 |`);
  for (const r of calls.rows) say(`| ${r.call} | ${f1(r.ms)} | ${f2(r.ms / calls.bare)} | ${r.gitProcesses} |`);
  say();
  say("Aim: at most 1.5x a bare Node start plus the git processes they cannot avoid.");
  say();

  // 3. Time to a ready 4-task phase with real dependencies.
  const startRounds = quick ? 1 : 3;
  const start = benchStart(ROOT, HELPER, work, startRounds);
  say("### Time to a ready 4-task phase");
  say();
  say(
    `A repository with ${start.packages} installed packages (this project's own lockfile); each worktree needs working dependencies. Median of ${startRounds} ${startRounds === 1 ? "run" : "runs"} each.`,
  );
  say();
  say("| method | seconds | ratio to ours |");
  say("| --- | ---: | ---: |");
  say(`| \`git worktree add\` + \`npm ci\` in each worktree | ${f1(start.plain / 1000)} | ${f2(start.plain / start.ours)} |`);
  say(`| \`git worktree add\` + \`cp -a node_modules\` in each worktree (the floor) | ${f1(start.copy / 1000)} | ${f2(start.copy / start.ours)} |`);
  say(`| \`claude-parallel start\` (copies the installed tree) | ${f1(start.ours / 1000)} | 1.00 |`);
  say();
  say(`Aims: at least 7x faster than \`npm ci\` (here ${f1(start.plain / start.ours)}x); within 1.2x of worktree add + \`cp -a\` (here ${f2(start.ours / start.copy)}x).`);
  say();

  // 4. Syncing 2 to 32 branches in repositories of 2,000 to 100,000 files.
  const cases: Array<[number, number, number]> = quick
    ? [
        [2, 2_000, 1],
        [8, 2_000, 1],
        [8, 20_000, 1],
      ]
    : [
        [2, 2_000, 3],
        [8, 2_000, 3],
        [32, 2_000, 1],
        [8, 20_000, 3],
        [8, 100_000, 1],
      ];
  say("### `sync` (no verify)");
  say();
  say(
    `Each branch changes 5 files of its own folder. The raw script is the least a sync does: \`git merge-tree --write-tree\` + \`git commit-tree\` per branch, one \`git update-ref\`. Median of ${quick ? "1 run" : "3 runs (1 for 32 branches and for 100,000 files)"}.`,
  );
  say();
  say("| branches | files | raw script s | `claude-parallel sync` s | ratio to raw | worktree + `git merge` per branch s |");
  say("| ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const [branches, files, rounds] of cases) {
    const r = benchSyncCase(HELPER, work, branches, files, rounds);
    say(`| ${branches} | ${files.toLocaleString("en-US")} | ${f2(r.raw / 1000)} | ${f2(r.ours / 1000)} | ${f2(r.ours / r.raw)} | ${f2(r.merge / 1000)} |`);
  }
  say();
  say("Aim: 8 branches, 20,000 files at most 2x the raw script.");
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

  if (updateDocs) {
    const page = join(ROOT, "docs", "benchmarks.md");
    const text = readFileSync(page, "utf8");
    const start = "<!-- bench:start -->";
    const end = "<!-- bench:end -->";
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i < 0 || j < i) throw new Error("docs/benchmarks.md has no bench markers");
    writeFileSync(page, `${text.slice(0, i + start.length)}\n${lines.join("\n")}\n${text.slice(j)}`);
    console.log("\nUpdated docs/benchmarks.md");
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
