import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{ENV_FILE}from"./chunk-IUKZLM23.mjs";import{runShell}from"./chunk-NFMONXS5.mjs";import{VerifyRecordSchema,readJsonFile,verifyRecordPath}from"./chunk-I4VFF7NF.mjs";import{writeFileAtomic}from"./chunk-YIRIYLWE.mjs";import{readFile}from"fs/promises";import{join}from"path";async function readVerifyRecord(commonDir,slug,taskId){return readJsonFile(verifyRecordPath(commonDir,slug,taskId),VerifyRecordSchema,"").catch(()=>{})}async function sessionEnv(worktree){let env={},text=await readFile(join(worktree,ENV_FILE),"utf8").catch(()=>"");for(let line of text.split(`
`)){let m=/^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);m&&(env[m[1]]=m[2])}return env}async function runVerify(commonDir,slug,taskId,worktree,command,commit){let result=await runShell(command,{cwd:worktree,env:await sessionEnv(worktree),maxBuffer:1048576}),output=`${result.stdout}${result.stderr}`,record={command,commit,exitCode:result.exitCode,ranAt:new Date().toISOString(),outputTail:output.split(`
`).slice(-20).join(`
`)};return await writeFileAtomic(verifyRecordPath(commonDir,slug,taskId),JSON.stringify(record,null,2)+`
`),record}export{readVerifyRecord,runVerify};
