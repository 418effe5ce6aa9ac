import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{adoptState}from"./chunk-5G7UEDWE.mjs";import"./chunk-HIZQL55Z.mjs";import"./chunk-LTW6CDH2.mjs";import"./chunk-IWLPPFHH.mjs";import"./chunk-BERMOVC2.mjs";import"./chunk-3L7HZPKI.mjs";import"./chunk-R6FRLCYB.mjs";import"./chunk-VJPOWWMU.mjs";import"./chunk-3AGQFA7T.mjs";import"./chunk-AGLJEMPF.mjs";import"./chunk-YIRIYLWE.mjs";import"./chunk-DEKEHZ25.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{adoptState};
