import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as t}from"./chunk-XII3MDSZ.mjs";import{readFileSync as n}from"fs";function c(e){if(!e)return!1;try{return process.kill(e,0),!0}catch(r){return r.code==="EPERM"}}t(c,"processAlive");function s(e){try{let r=n(`/proc/${e}/stat`,"utf8");return r.slice(r.lastIndexOf(")")+2).split(" ")[19]}catch{return}}t(s,"processStartTime");export{c as a,s as b};
