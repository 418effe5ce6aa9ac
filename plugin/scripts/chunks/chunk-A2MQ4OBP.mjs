import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
function i(r){if(r.includes("\0"))throw new Error("a shell argument cannot contain a NUL character");return`'${r.replace(/'/g,"'\\''")}'`}function o(r,...n){return r.reduce((e,c,t)=>e+c+(t<n.length?i(n[t]):""),"")}export{i as a,o as b};
