// `npm run bench -- --rolling-only`: only the rolling-vs-phased simulation (no git, no installs).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchRolling, rollingTable } from "./rolling.js";

const STG = process.env.STG_DIR ?? join(fileURLToPath(new URL("..", import.meta.url)), "..", "shared", "bench", "stg");
if (!existsSync(STG)) throw new Error(`STG benchmark data not found at ${STG}; set STG_DIR`);
for (const line of rollingTable(benchRolling(STG))) console.log(line);
console.log(`Measured on ${process.platform}-${process.arch}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`);
