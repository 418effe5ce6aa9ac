import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as t}from"./chunk-XII3MDSZ.mjs";import{realpathSync as e}from"fs";import{resolve as o}from"path";function p(){let r=o(process.argv[1]??"");try{return e(r)}catch{return r}}t(p,"helperPath");export{p as a};
