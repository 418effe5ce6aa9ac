import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as b,b as c,c as d}from"./chunk-RRQAP26P.mjs";import"./chunk-YBKMENWY.mjs";import"./chunk-GMMK4LG4.mjs";import"./chunk-J4VFOP5W.mjs";import"./chunk-O7S6IOE3.mjs";import{d as a}from"./chunk-GBXHKPDS.mjs";import"./chunk-WIGJMF6X.mjs";import"./chunk-FXI4EKQ2.mjs";import"./chunk-E6BCGTX6.mjs";import"./chunk-XII3MDSZ.mjs";export{c as launchHeadless,b as readSessionRecord,a as sessionsDir,d as supervise};
