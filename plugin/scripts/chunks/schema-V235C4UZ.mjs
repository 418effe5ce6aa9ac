import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{m as a,n as b,o as c,p as d,q as e,r as f}from"./chunk-2UT5JZYG.mjs";import"./chunk-G7Q5WIIQ.mjs";export{c as PLAN_KEYS,b as PlanSchema,d as TASK_KEYS,a as TaskSchema,f as planJsonSchema,e as validatePlan};
