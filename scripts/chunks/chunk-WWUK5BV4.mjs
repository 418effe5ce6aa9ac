import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{gitOk,nulFields}from"./chunk-3UMZJUXY.mjs";async function ownChanges(cwd,startCommit,tip,others){let out=await gitOk(["log","--no-merges","--format=","--name-only","-z",tip,"--not",startCommit,...others,"--"],cwd);return new Set(nulFields(out.replace(/\n/g,"")))}export{ownChanges};
