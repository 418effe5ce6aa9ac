import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{createHash}from"crypto";import{createServer}from"net";var PORTS_PER_TASK=10,FIRST_PORT=2e4,BLOCKS=4e3;function preferredBlock(slug,taskId){return createHash("sha256").update(`${slug}\0${taskId}`).digest().readUInt32BE(0)%BLOCKS}function blockPort(block){return FIRST_PORT+block%BLOCKS*PORTS_PER_TASK}function portIsFree(port){return new Promise(resolve=>{let server=createServer();server.once("error",()=>resolve(!1)),server.listen({port,host:"127.0.0.1",exclusive:!0},()=>server.close(()=>resolve(!0)))})}async function blockIsFree(first){for(let p=first;p<first+PORTS_PER_TASK;p++)if(!await portIsFree(p))return!1;return!0}async function allocatePortBlock(slug,taskId,taken){let start=preferredBlock(slug,taskId);for(let k=0;k<BLOCKS;k++){let first=blockPort(start+k);if(!taken.has(first)&&await blockIsFree(first))return first}throw new Error("no free block of 10 ports between 20000 and 59999")}import{appendFile,mkdir,readFile}from"fs/promises";import{join}from"path";var SESSION_DIR=".claude-parallel",BRIEF_FILE=`${SESSION_DIR}/brief.md`,ENV_FILE=`${SESSION_DIR}/env`;async function ignoreSessionDir(commonDir){let exclude=join(commonDir,"info","exclude"),text="";try{text=await readFile(exclude,"utf8")}catch{await mkdir(join(commonDir,"info"),{recursive:!0})}let line=`/${SESSION_DIR}/`;text.split(`
`).includes(line)||await appendFile(exclude,`${text&&!text.endsWith(`
`)?`
`:""}# claude-parallel: session briefs and environment
${line}
`)}function envFileText(slug,taskId,port){return[`# Written by claude-parallel for task ${taskId} of ${slug}. Load it with: . ./${ENV_FILE}`,`PARALLEL_FEATURE=${slug}`,`PARALLEL_TASK=${taskId}`,`PARALLEL_PORT=${port}`,`PARALLEL_PORT_LAST=${port+PORTS_PER_TASK-1}`,""].join(`
`)}async function writeSessionFiles(worktree,brief,env){await worktree.writeFile(BRIEF_FILE,brief.endsWith(`
`)?brief:brief+`
`),await worktree.writeFile(ENV_FILE,env)}export{allocatePortBlock,SESSION_DIR,BRIEF_FILE,ENV_FILE,ignoreSessionDir,envFileText,writeSessionFiles};
