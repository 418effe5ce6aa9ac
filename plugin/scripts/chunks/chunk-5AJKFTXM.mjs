import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{realpathSync as t}from"fs";import{resolve as e}from"path";function c(){let r=e(process.argv[1]??"");try{return t(r)}catch{return r}}export{c as a};
