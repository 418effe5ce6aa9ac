import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as n}from"./chunk-XII3MDSZ.mjs";import{createHash as m}from"crypto";import{createServer as p}from"net";var i=10,d=2e4,c=4e3;function P(r,e){return m("sha256").update(`${r}\0${e}`).digest().readUInt32BE(0)%c}n(P,"preferredBlock");function L(r){return d+r%c*i}n(L,"blockPort");function R(r){return new Promise(e=>{let t=p();t.once("error",()=>e(!1)),t.listen({port:r,host:"127.0.0.1",exclusive:!0},()=>t.close(()=>e(!0)))})}n(R,"portIsFree");async function b(r){for(let e=r;e<r+i;e++)if(!await R(e))return!1;return!0}n(b,"blockIsFree");async function A(r,e,t){let o=P(r,e);for(let s=0;s<c;s++){let a=L(o+s);if(!t.has(a)&&await b(a))return a}throw new Error("no free block of 10 ports between 20000 and 59999")}n(A,"allocatePortBlock");import{appendFile as w,mkdir as x,readFile as E}from"fs/promises";import{join as u}from"path";var l=".claude-parallel",F=`${l}/brief.md`,f=`${l}/env`;async function v(r){let e=u(r,"info","exclude"),t="";try{t=await E(e,"utf8")}catch{await x(u(r,"info"),{recursive:!0})}let o=`/${l}/`;t.split(`
`).includes(o)||await w(e,`${t&&!t.endsWith(`
`)?`
`:""}# claude-parallel: session briefs and environment
${o}
`)}n(v,"ignoreSessionDir");function y(r,e,t){return[`# Written by claude-parallel for task ${e} of ${r}. Load it with: . ./${f}`,`PARALLEL_FEATURE=${r}`,`PARALLEL_TASK=${e}`,`PARALLEL_PORT=${t}`,`PARALLEL_PORT_LAST=${t+i-1}`,""].join(`
`)}n(y,"envFileText");async function I(r,e,t){await r.writeFile(F,e.endsWith(`
`)?e:e+`
`),await r.writeFile(f,t)}n(I,"writeSessionFiles");export{A as a,l as b,F as c,f as d,v as e,y as f,I as g};
