import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{mkdir as m,rename as a,writeFile as n,rm as c}from"fs/promises";import{dirname as e,join as s,basename as w}from"path";async function p(r,t){await m(e(r),{recursive:!0});let i=s(e(r),`.${w(r)}.${process.pid}.tmp`);try{await n(i,t),await a(i,r)}catch(o){throw await c(i,{force:!0}),o}}export{p as a};
