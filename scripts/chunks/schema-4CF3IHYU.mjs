import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{m as a,n as b,o as c,p as d,q as e,r as f}from"./chunk-7DZMPRCW.mjs";import"./chunk-E6BCGTX6.mjs";import"./chunk-XII3MDSZ.mjs";export{c as PLAN_KEYS,b as PlanSchema,d as TASK_KEYS,a as TaskSchema,f as planJsonSchema,e as validatePlan};
