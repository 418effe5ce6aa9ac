import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{LIMITS,PLAN_KEYS,PlanSchema,TASK_KEYS,TaskSchema,planJsonSchema,splitFix,validatePlan,withFix}from"./chunk-HG2KW7WC.mjs";import"./chunk-ZUZJZTBF.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{LIMITS,PLAN_KEYS,PlanSchema,TASK_KEYS,TaskSchema,planJsonSchema,splitFix,validatePlan,withFix};
