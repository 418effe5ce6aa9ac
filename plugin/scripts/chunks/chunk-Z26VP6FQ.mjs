import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
function c(t){return t.replace(/\s+/g," ").trim()}function o(t){let n=c(t),s=Math.max(0,...[...n.matchAll(/`+/g)].map(i=>i[0].length)),e="`".repeat(s+1),r=n.startsWith("`")||n.endsWith("`")?" ":"";return`${e}${r}${n}${r}${e}`}function a(t,n){let s=Math.max(0,...[...n.matchAll(/^ {0,3}(`{3,}|~{3,})/gm)].map(r=>r[1].length)),e="`".repeat(Math.max(3,s+1));return`${e}${t}
${n.replace(/\n+$/,"")}
${e}`}function g(t){return t.map(o).join(", ")}export{c as a,o as b,a as c,g as d};
