import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{d as l}from"./chunk-J4VFOP5W.mjs";import{b as g,c as d}from"./chunk-WYZN3Q6R.mjs";import{e as c,j as u,k as p}from"./chunk-GBXHKPDS.mjs";import{a,d as m}from"./chunk-WIGJMF6X.mjs";import{a as o}from"./chunk-XII3MDSZ.mjs";async function h(n,r,e,i){let t=await g(["log","--no-merges","--format=","--name-only","-z",e,"--not",r,...i,"--"],n);return new Set(d(t.replace(/\n/g,"")))}o(h,"ownChanges");import{readFile as w}from"fs/promises";import{join as x}from"path";async function I(n,r,e){return p(c(n,r,e),u,"").catch(()=>{})}o(I,"readVerifyRecord");async function V(n){let r={},e=await w(x(n,l),"utf8").catch(()=>"");for(let i of e.split(`
`)){let t=/^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(i);t&&(r[t[1]]=t[2])}return r}o(V,"sessionEnv");async function J(n,r,e,i,t,y){let s=await m(t,{cwd:i,env:await V(i),maxBuffer:1048576}),R=`${s.stdout}${s.stderr}`,f={command:t,commit:y,exitCode:s.exitCode,ranAt:new Date().toISOString(),outputTail:R.split(`
`).slice(-20).join(`
`)};return await a(c(n,r,e),JSON.stringify(f,null,2)+`
`),f}o(J,"runVerify");export{h as a,I as b,J as c};
