import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{PLAN_KEYS,PlanSchema,TASK_KEYS,TaskSchema,planJsonSchema,splitFix,validatePlan,withFix}from"./chunk-LNUXJGRM.mjs";import{LIMITS}from"./chunk-QSZIE3YA.mjs";import"./chunk-32EZN4XS.mjs";import"./chunk-Z3LS4PXV.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{LIMITS,PLAN_KEYS,PlanSchema,TASK_KEYS,TaskSchema,planJsonSchema,splitFix,validatePlan,withFix};
