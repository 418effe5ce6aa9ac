import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// Command areas: what one command (or the hooks, or the live page) does above the services. No
// area imports another: what two share moves down into a service.
const AREAS: Record<string, readonly string[]> = {
  run: ["src/run/"],
  replan: ["src/replan/"],
  status: ["src/status/", "src/dashboard/"],
  ci: ["src/ci/"],
  hooks: ["src/hooks/"],
  context: ["src/context/"],
};

// The layer rule of ARCHITECTURE.md, over the import graph of src/ (type-only imports included).
// Each file belongs to the layer of the longest entry naming its folder (or itself); a file no entry
// names is a violation. A layer imports only from the layers it lists (its own included); a command
// area imports no other area.
const LAYERS: ReadonlyArray<{ layer: string; paths: readonly string[]; imports: readonly string[] }> = [
  { layer: "base", paths: ["src/core/text/", "src/core/errors.ts"], imports: ["base"] },
  { layer: "core", paths: ["src/core/", "src/shims/", "src/types/"], imports: ["base", "core"] },
  { layer: "infra", paths: ["src/git/", "src/fs/", "src/proc.ts", "src/process-identity.ts", "src/crash-point.ts", "src/self.ts"], imports: ["base", "infra"] },
  { layer: "state", paths: ["src/feature/"], imports: ["base", "core", "infra", "state"] },
  {
    layer: "services",
    paths: ["src/session/", "src/worktree/", "src/merge/", "src/state-ref/", "src/start/", "src/sync/", "src/finish/", "src/notify/", "src/pr-watch/"],
    imports: ["base", "core", "infra", "state", "services"],
  },
  { layer: "areas", paths: Object.values(AREAS).flat(), imports: ["base", "core", "infra", "state", "services", "areas"] },
  { layer: "commands", paths: ["src/commands/"], imports: ["base", "core", "infra", "state", "services", "areas", "commands"] },
  { layer: "entry", paths: ["src/main.ts", "src/cli.ts"], imports: ["base", "core", "infra", "state", "services", "areas", "commands", "entry"] },
];

/** What the pure core never imports: files, processes, the network. */
const IMPURE_BUILTINS = ["fs", "fs/promises", "child_process", "net", "http", "https", "http2", "tls", "dgram", "cluster", "worker_threads", "readline", "inspector"];

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

interface Import {
  specifier: string;
  line: number;
  /** the src/ file it names, for a relative specifier */
  target?: string;
}

/** Every module a file names: static and dynamic imports, `export ... from`, `import type`, `import("x")` types. */
function importsOf(file: string, files: ReadonlySet<string>): Import[] {
  const text = readFileSync(join(root, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const take = (node: ts.Node | undefined) => {
    if (node === undefined || !ts.isStringLiteralLike(node)) return;
    const specifier = node.text;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    if (!specifier.startsWith(".")) return void found.push({ specifier, line });
    const base = posix.normalize(posix.join(posix.dirname(file), specifier));
    const stem = base.replace(/\.(js|ts)$/, "");
    const target = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.d.ts`, `${base}/index.ts`].find((c) => files.has(c));
    found.push({ specifier, line, target: target ?? `${base} (no such file)` });
  };
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) take(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) take(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) take(node.argument.literal);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))) take(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function longestMatch<T>(file: string, entries: ReadonlyArray<[string, T]>): T | undefined {
  let best: [string, T] | undefined;
  for (const entry of entries) {
    const [path] = entry;
    const hit = path.endsWith("/") ? file.startsWith(path) : file === path;
    if (hit && (best === undefined || path.length > best[0].length)) best = entry;
  }
  return best?.[1];
}
const layerEntries = LAYERS.flatMap(({ layer, paths }) => paths.map((p): [string, string] => [p, layer]));
const areaEntries = Object.entries(AREAS).flatMap(([area, paths]) => paths.map((p): [string, string] => [p, area]));
const layerOf = (file: string) => longestMatch(file, layerEntries);
const areaOf = (file: string) => longestMatch(file, areaEntries);
const allowed = new Map(LAYERS.map(({ layer, imports }) => [layer, new Set(imports)]));

/** Every rule broken, one line each: `file:line -> import: rule`. */
function violations(): { rules: string[]; cycles: string[] } {
  const files = sourceFiles("src");
  const fileSet = new Set(files);
  const graph = new Map<string, string[]>();
  const rules: string[] = [];
  for (const file of files) {
    const layer = layerOf(file);
    if (layer === undefined) rules.push(`${file}: in no layer (name its folder in LAYERS, test/unit/layers.test.ts, and in ARCHITECTURE.md)`);
    const edges: string[] = [];
    for (const imp of importsOf(file, fileSet)) {
      const where = `${file}:${imp.line} -> ${imp.specifier}`;
      if (imp.target === undefined) {
        const builtin = imp.specifier.replace(/^node:/, "");
        if ((layer === "core" || layer === "base") && IMPURE_BUILTINS.includes(builtin)) rules.push(`${where}: the pure core touches no files, processes or network`);
        continue;
      }
      if (!fileSet.has(imp.target)) {
        rules.push(`${where}: names no file in src/`);
        continue;
      }
      edges.push(imp.target);
      const to = layerOf(imp.target);
      if (layer === undefined || to === undefined) continue;
      if (!allowed.get(layer)!.has(to)) rules.push(`${where}: ${layer} imports nothing from ${to} (${imp.target})`);
      else if (layer === "areas" && to === "areas" && areaOf(file) !== areaOf(imp.target))
        rules.push(`${where}: the ${areaOf(file)} area imports nothing from the ${areaOf(imp.target)} area (${imp.target}): move what both need into a service`);
    }
    graph.set(file, [...new Set(edges)]);
  }
  return { rules, cycles: cyclesOf(graph) };
}

/** Each strongly connected group of files (Tarjan), printed as one cycle through it. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return groups.map((group) => {
    // One cycle through the group's first file, found by a breadth-first walk inside the group.
    const members = new Set(group);
    const start = [...group].sort()[0]!;
    const from = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && end === undefined) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!from.has(w)) {
          from.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = end!; v !== start; v = from.get(v)!) path.splice(1, 0, v);
    return `${path.join(" -> ")} -> ${start}${group.length > path.length ? ` (${group.length} files tangled: ${[...group].sort().join(", ")})` : ""}`;
  });
}

describe("the layer rule (ARCHITECTURE.md, Layers)", () => {
  const found = violations();

  it("every file sits in a layer and imports only what its layer may", () => {
    expect(found.rules, `\n${found.rules.join("\n")}\n`).toEqual([]);
  });

  it("no import cycles, type-only imports included", () => {
    expect(found.cycles, `\n${found.cycles.join("\n")}\n`).toEqual([]);
  });

  it("the checks can fail: a core file importing node:fs or a service, and a cycle, are caught", () => {
    // The rules run on a made-up graph: a fixture, so this test proves the checker, not the tree.
    expect(layerOf("src/core/plan/x.ts")).toBe("core");
    expect(layerOf("src/core/text/x.ts")).toBe("base");
    expect(allowed.get("core")!.has("services")).toBe(false);
    expect(allowed.get("infra")!.has("core")).toBe(false);
    expect(areaOf("src/dashboard/x.ts")).toBe("status");
    expect(
      cyclesOf(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
          ["d", ["a"]],
        ]),
      ),
    ).toEqual(["a -> b -> c -> a"]);
    expect(
      cyclesOf(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });
});
