import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-WXUYTU3S.mjs";import"./chunk-5AJKFTXM.mjs";import"./chunk-4DHETZNA.mjs";import"./chunk-WYWM5EQB.mjs";import"./chunk-A2MQ4OBP.mjs";import"./chunk-O4RSHTWI.mjs";import"./chunk-N7V7EXH6.mjs";import"./chunk-G7Q5WIIQ.mjs";export{d as launchHeadless,c as processAlive,b as readSessionRecord,a as sessionsDir,e as supervise};
