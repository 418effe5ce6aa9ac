import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as r}from"./chunk-XII3MDSZ.mjs";function o(t){return t.replace(/\s+/g," ").trim()}r(o,"oneLine");function a(t){let n=o(t),i=Math.max(0,...[...n.matchAll(/`+/g)].map(c=>c[0].length)),e="`".repeat(i+1),s=n.startsWith("`")||n.endsWith("`")?" ":"";return`${e}${s}${n}${s}${e}`}r(a,"code");function g(t,n){let i=Math.max(0,...[...n.matchAll(/^ {0,3}(`{3,}|~{3,})/gm)].map(s=>s[1].length)),e="`".repeat(Math.max(3,i+1));return`${e}${t}
${n.replace(/\n+$/,"")}
${e}`}r(g,"fence");function l(t){return t.map(a).join(", ")}r(l,"list");export{o as a,a as b,g as c,l as d};
