import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as e}from"./chunk-SQF2LX74.mjs";async function u(s,a={}){let l=a.untracked===!1?"no":"all",n=await e(["--no-optional-locks","status","--porcelain=v1","-z",`--untracked-files=${l}`],s);if(n.exitCode!==0)throw new Error(`git status failed in ${s}: ${n.stderr.trim()}`);let i=n.stdout.split("\0").filter(Boolean),r=[];for(let t=0;t<i.length;t++){let o=i[t];r.push(o.slice(3)),(o[0]==="R"||o[0]==="C")&&t++}return r}export{u as a};
