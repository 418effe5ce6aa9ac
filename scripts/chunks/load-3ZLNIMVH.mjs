import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{fieldPath,parsePlan}from"./chunk-YN36AJZD.mjs";import"./chunk-3AGQFA7T.mjs";import"./chunk-3BJSRCGA.mjs";import"./chunk-BERMOVC2.mjs";import"./chunk-HG2KW7WC.mjs";import"./chunk-ZUZJZTBF.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{fieldPath,parsePlan};
