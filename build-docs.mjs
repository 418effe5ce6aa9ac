// `npm run docs`: writes docs/commands.md from the command modules' specs (src/commands/*.ts),
// through the same renderer a test checks the page against (test/unit/command-reference.test.ts).
import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const outfile = `${root}.cache/build-docs.mjs`;
await build({
  stdin: {
    contents: 'export { commandModules } from "./src/cli.ts";\nexport { commandReference } from "./src/core/render/command-reference.ts";\n',
    resolveDir: root,
    loader: "ts",
  },
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});
const { commandModules, commandReference } = await import(pathToFileURL(outfile).href);
const target = `${root}docs/commands.md`;
writeFileSync(target, commandReference((await commandModules()).map((m) => m.spec)));
console.log(`Wrote ${target}.`);
