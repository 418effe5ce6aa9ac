import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{b as u}from"./chunk-4DHETZNA.mjs";import{a as o}from"./chunk-WYWM5EQB.mjs";import{a as f}from"./chunk-O4RSHTWI.mjs";import{mkdir as y,readFile as g}from"fs/promises";import{join as s}from"path";var d=(r,t,i)=>s(o(r,t),"verify",`${i}.json`);async function S(r,t,i){try{return JSON.parse(await g(d(r,t,i),"utf8"))}catch{return}}async function w(r){let t={},i=await g(s(r,u),"utf8").catch(()=>"");for(let n of i.split(`
`)){let e=/^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(n);e&&(t[e[1]]=e[2])}return t}async function j(r,t,i,n,e,l){let{execa:m}=await import("./execa-WLVKBPL4.mjs"),c=await m(e,{shell:!0,cwd:n,all:!0,reject:!1,env:await w(n)}),p=String(c.all??""),a={command:e,commit:l,exitCode:c.exitCode??1,ranAt:new Date().toISOString(),outputTail:p.split(`
`).slice(-20).join(`
`)};return await y(s(o(r,t),"verify"),{recursive:!0}),await f(d(r,t,i),JSON.stringify(a,null,2)+`
`),a}export{S as a,j as b};
