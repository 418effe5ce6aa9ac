import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
function oneLine(text){return text.replace(/\s+/g," ").trim()}function code(text){let line=oneLine(text),longest=Math.max(0,...[...line.matchAll(/`+/g)].map(m=>m[0].length)),ticks="`".repeat(longest+1),pad=line.startsWith("`")||line.endsWith("`")?" ":"";return`${ticks}${pad}${line}${pad}${ticks}`}function fence(info,body){let longest=Math.max(0,...[...body.matchAll(/^ {0,3}(`{3,}|~{3,})/gm)].map(m=>m[1].length)),ticks="`".repeat(Math.max(3,longest+1));return`${ticks}${info}
${body.replace(/\n+$/,"")}
${ticks}`}function list(items){return items.map(code).join(", ")}export{oneLine,code,fence,list};
