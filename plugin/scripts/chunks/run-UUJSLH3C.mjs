import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{MIN_GIT,git,gitIsRecentEnough,gitOk,gitVersion,locateRepo,nulFields}from"./chunk-5XHFMRMQ.mjs";import"./chunk-NFMONXS5.mjs";import"./chunk-PJJESPKZ.mjs";import"./chunk-YT4JJS4X.mjs";export{MIN_GIT,git,gitIsRecentEnough,gitOk,gitVersion,locateRepo,nulFields};
