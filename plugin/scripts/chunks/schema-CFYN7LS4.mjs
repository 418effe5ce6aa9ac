import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{PLAN_KEYS,PlanSchema,TASK_KEYS,TaskSchema,planJsonSchema,validatePlan}from"./chunk-AZF5SLUS.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{PLAN_KEYS,PlanSchema,TASK_KEYS,TaskSchema,planJsonSchema,validatePlan};
