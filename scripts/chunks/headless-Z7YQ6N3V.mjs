import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{launchHeadless,readSessionRecord,supervise}from"./chunk-BXMXLTNL.mjs";import"./chunk-OMGBJS5W.mjs";import"./chunk-ADJ34ATN.mjs";import"./chunk-PZK6ICGF.mjs";import{sessionsDir}from"./chunk-VXWKPHRC.mjs";import"./chunk-H33V6YFY.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{launchHeadless,readSessionRecord,sessionsDir,supervise};
