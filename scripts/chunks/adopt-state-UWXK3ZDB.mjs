import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{adoptState}from"./chunk-3WYKRCFK.mjs";import"./chunk-ZTLPR3DM.mjs";import"./chunk-J6XRU3WW.mjs";import"./chunk-IWLPPFHH.mjs";import"./chunk-BERMOVC2.mjs";import"./chunk-HZZOR5G5.mjs";import"./chunk-R6FRLCYB.mjs";import"./chunk-VJPOWWMU.mjs";import"./chunk-3AGQFA7T.mjs";import"./chunk-SRBTONSE.mjs";import"./chunk-YIRIYLWE.mjs";import"./chunk-NFMONXS5.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-HLZ32CKP.mjs";import"./chunk-YT4JJS4X.mjs";export{adoptState};
