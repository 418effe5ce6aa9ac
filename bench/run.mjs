// `npm run bench`: bundles bench/main.ts with esbuild and runs it (no TypeScript runner needed).
import { build } from "esbuild";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// `--rolling-only`: just the rolling-vs-phased simulation, which needs neither git nor the bundle.
const entry = process.argv.includes("--rolling-only") ? "rolling-only" : "main";
const outfile = `${root}.cache/bench-${entry}.mjs`;
await build({
  entryPoints: [`${root}bench/${entry}.ts`],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
