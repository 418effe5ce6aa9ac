import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as b,b as c,c as d}from"./chunk-5VSEZ3YW.mjs";import"./chunk-YBKMENWY.mjs";import"./chunk-AHEL65XG.mjs";import"./chunk-J4VFOP5W.mjs";import"./chunk-O7S6IOE3.mjs";import{d as a}from"./chunk-OVA65VKQ.mjs";import"./chunk-WDXQKKDI.mjs";import"./chunk-LLDGOIUD.mjs";import"./chunk-E6BCGTX6.mjs";import"./chunk-XII3MDSZ.mjs";export{c as launchHeadless,b as readSessionRecord,a as sessionsDir,d as supervise};
