import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{d as p}from"./chunk-J4VFOP5W.mjs";import{e as c,j as m,k as u}from"./chunk-U66PYKJY.mjs";import{a as d,d as a}from"./chunk-WIGJMF6X.mjs";import{a as o}from"./chunk-XII3MDSZ.mjs";import{readFile as l}from"fs/promises";import{join as R}from"path";async function E(i,r,e){return u(c(i,r,e),m,"").catch(()=>{})}o(E,"readVerifyRecord");async function V(i){let r={},e=await l(R(i,p),"utf8").catch(()=>"");for(let n of e.split(`
`)){let t=/^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(n);t&&(r[t[1]]=t[2])}return r}o(V,"sessionEnv");async function _(i,r,e,n,t,g){let s=await a(t,{cwd:n,env:await V(n),maxBuffer:1048576}),y=`${s.stdout}${s.stderr}`,f={command:t,commit:g,exitCode:s.exitCode,ranAt:new Date().toISOString(),outputTail:y.split(`
`).slice(-20).join(`
`)};return await d(c(i,r,e),JSON.stringify(f,null,2)+`
`),f}o(_,"runVerify");export{E as a,_ as b};
