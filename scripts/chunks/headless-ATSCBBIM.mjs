import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{launchHeadless,readSessionRecord,supervise}from"./chunk-TOLYQTVC.mjs";import"./chunk-OMGBJS5W.mjs";import"./chunk-QKDYPRGX.mjs";import"./chunk-IUKZLM23.mjs";import"./chunk-ZV2TM7UY.mjs";import"./chunk-NFMONXS5.mjs";import{sessionsDir}from"./chunk-I4VFF7NF.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YIRIYLWE.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-YT4JJS4X.mjs";export{launchHeadless,readSessionRecord,sessionsDir,supervise};
