import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{launchHeadless,readSessionRecord,supervise}from"./chunk-TQ3HIJ3C.mjs";import"./chunk-OMGBJS5W.mjs";import"./chunk-OI6D7A3S.mjs";import"./chunk-PZK6ICGF.mjs";import{sessionsDir}from"./chunk-QUKVEJS6.mjs";import"./chunk-JTC2E6ZE.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{launchHeadless,readSessionRecord,sessionsDir,supervise};
