import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
function crashPoint(step){process.env.CLAUDE_PARALLEL_CRASH_AT===step&&process.kill(process.pid,"SIGKILL")}export{crashPoint};
