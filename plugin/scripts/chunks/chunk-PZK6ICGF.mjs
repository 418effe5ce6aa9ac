import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{readFileSync}from"fs";function processAlive(pid){if(!pid)return!1;try{return process.kill(pid,0),!0}catch(error){return error.code==="EPERM"}}function processStartTime(pid){try{let stat=readFileSync(`/proc/${pid}/stat`,"utf8");return stat.slice(stat.lastIndexOf(")")+2).split(" ")[19]}catch{return}}export{processAlive,processStartTime};
