import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
var x={ok:0,internal:1,invalidInput:2,environment:3,refused:4,verifyFailed:5},n=class extends Error{problems;constructor(r){let t=Array.isArray(r)?r:[r];super(t.map(a).join(`
`)),this.name="InputError",this.problems=t}},o=class extends Error{constructor(t,s){super(`${t}
  fix: ${s}`);this.fix=s;this.name="EnvironmentError"}fix};function a(e){let r=e.where?`${e.where}: ${e.message}`:e.message;return e.fix?`${r}
  fix: ${e.fix}`:r}var i=class extends Error{constructor(t){super(t.map(s=>`${s.task?`task ${s.task}: `:""}${s.message}
  fix: ${s.fix}`).join(`
`));this.refusals=t;this.name="RefusedError"}refusals};export{x as a,n as b,o as c,i as d};
