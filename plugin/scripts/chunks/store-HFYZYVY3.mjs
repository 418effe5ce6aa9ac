import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{readJsonFile,readState,repairStateFix,startedFeatures,writeState}from"./chunk-I4VFF7NF.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YIRIYLWE.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-YT4JJS4X.mjs";export{readJsonFile,readState,repairStateFix,startedFeatures,writeState};
