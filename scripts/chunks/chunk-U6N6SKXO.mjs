import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as e}from"./chunk-5LBJYRFU.mjs";async function a(n){let i=await e(["--no-optional-locks","status","--porcelain=v1","-z","--untracked-files=all"],n);if(i.exitCode!==0)throw new Error(`git status failed in ${n}: ${i.stderr.trim()}`);let o=i.stdout.split("\0").filter(Boolean),r=[];for(let t=0;t<o.length;t++){let s=o[t];r.push(s.slice(3)),(s[0]==="R"||s[0]==="C")&&t++}return r}export{a};
