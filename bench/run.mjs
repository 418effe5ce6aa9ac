// `npm run bench`: bundles bench/main.ts with esbuild and runs it (no TypeScript runner needed).
import { build } from "esbuild";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outfile = `${root}.cache/bench.mjs`;
await build({
  entryPoints: [`${root}bench/main.ts`],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
