import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{fieldPath,parsePlan}from"./chunk-ZQC44RPA.mjs";import"./chunk-LNUXJGRM.mjs";import"./chunk-3AGQFA7T.mjs";import"./chunk-2AFRYTEI.mjs";import"./chunk-QSZIE3YA.mjs";import"./chunk-LZ2BPBPD.mjs";import"./chunk-BERMOVC2.mjs";import"./chunk-32EZN4XS.mjs";import"./chunk-Z3LS4PXV.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-YT4JJS4X.mjs";export{fieldPath,parsePlan};
