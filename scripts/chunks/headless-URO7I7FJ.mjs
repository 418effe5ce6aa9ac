import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{launchHeadless,readSessionRecord,supervise}from"./chunk-I6CSTWQB.mjs";import"./chunk-OMGBJS5W.mjs";import"./chunk-D4R5GA2M.mjs";import"./chunk-IUKZLM23.mjs";import"./chunk-PZK6ICGF.mjs";import{sessionsDir}from"./chunk-YWZ4I423.mjs";import"./chunk-JTC2E6ZE.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{launchHeadless,readSessionRecord,sessionsDir,supervise};
