import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{stat}from"fs/promises";var pathExists=path=>stat(path).then(()=>!0,()=>!1),isFile=path=>stat(path).then(s=>s.isFile(),()=>!1);export{pathExists,isFile};
