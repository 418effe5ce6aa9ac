import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{helperPath}from"./chunk-OMGBJS5W.mjs";import{didYouMean}from"./chunk-BERMOVC2.mjs";import{CliError,ExitCode,InputError,systemError}from"./chunk-PJJESPKZ.mjs";import"./chunk-YT4JJS4X.mjs";import{parseArgs}from"util";var UNSAFE=/[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;function escape(ch){let code=ch.charCodeAt(0);return code===13?"\\r":code<32?`\\x${code.toString(16).padStart(2,"0")}`:`\\u${code.toString(16).padStart(4,"0")}`}function terminalSafe(text){return text.replace(UNSAFE,escape)}var VERSION="0.1.0",USAGE=`claude-parallel: plan parallel Claude Code sessions in git worktrees

Usage:
  claude-parallel plan <plan.yaml> [--json] [--no-write]
      Validate a plan, group its tasks into phases and print the execution plan.
      Also writes it to .parallel/<slug>/PLAN.md (not with --no-write).
  claude-parallel start [plan-or-slug] [--phase N] [--launch print|tmux|headless]
                        [--deps auto|none] [--dry-run] [--permission-mode M] [--model M]
      Create the phase's branches and worktrees from the integration branch, write each
      session's brief, copy .worktreeinclude files, prepare dependencies, start the sessions.
  claude-parallel status [slug] [--json] [--verify]
      Where every session stands: commits, uncommitted changes, files changed outside the
      task's owned paths, verify results (--verify runs them now), headless sessions, and
      predicted merge conflicts.
  claude-parallel sync [slug] [--phase N] [--dry-run] [--no-verify] [--verify CMD]
                       [--keep-worktrees] [--no-next] [--allow-outside-owns]
      Check the phase's branches, predict conflicts, merge them in order into the
      integration branch, verify the result, publish it, and start the next phase.
  claude-parallel skip <task> [slug] --reason TEXT | --undo
      Leave a task of the phase in progress out of its sync (nothing to do, or work not
      wanted); its branch and worktree stay.
  claude-parallel replan [plan-or-slug] [--dry-run]
      Apply an edited plan file to a started feature (whose phases follow the plan frozen
      at the first start): phases not started change freely; what already ran cannot.
  claude-parallel finish [slug] [--pr]
      After the last phase: merge the integration branch into base (or print the
      gh pr create command with --pr).
  claude-parallel clean [slug] [--force] [--dry-run]
      Remove what the feature made and recorded (its task worktrees, the branches it
      created, its backup refs and its state), never anything else; refuses to drop
      uncommitted work or commits base does not hold, unless --force.
  claude-parallel schema       Print the JSON Schema of plan files.
  claude-parallel context      Print what /parallel needs to know about this repository.
  claude-parallel --version    Print the version.

Exit codes: 0 done, 1 internal error, 2 invalid plan or usage, 3 unfit environment,
4 refused because of the repository's state (nothing was changed), 5 the merged result
fails verification (nothing was published).`,COMMANDS=["plan","start","status","sync","skip","replan","finish","clean","schema","context","help"];async function run(argv,io){try{return await dispatch(argv,io)}catch(error){let known=error instanceof CliError?error:systemError(error);if(known)return io.stderr(`claude-parallel: ${known.report()}
`),known.exitCode;let e=error;return io.stderr(`claude-parallel: internal error: ${(e==null?void 0:e.stack)??String(error)}
This is a bug in claude-parallel; please report it with the command you ran.
`),ExitCode.internal}}function usageError(message,fix="run `claude-parallel --help` for usage"){return new InputError({where:"",message,fix})}async function dispatch(argv,io){let[command,...rest]=argv;if(command===void 0||command==="help"||command==="--help"||command==="-h")return io.stdout(USAGE+`
`),ExitCode.ok;if(command==="--version"||command==="-v")return io.stdout(`${VERSION}
`),ExitCode.ok;switch(command){case"plan":{let{values,positionals}=parse(rest,{json:{type:"boolean"},"no-write":{type:"boolean"}},1),{planCommand,planUsageError}=await import("./plan-TXCML6SW.mjs");if(!positionals[0])throw planUsageError();return planCommand({file:positionals[0],json:values.json===!0,write:values["no-write"]!==!0},io)}case"schema":{parse(rest,{},0);let{planJsonSchema}=await import("./schema-2UTZT5G4.mjs");return io.stdout(JSON.stringify(planJsonSchema(),null,2)+`
`),ExitCode.ok}case"start":{let{values,positionals}=parse(rest,{phase:{type:"string"},launch:{type:"string"},deps:{type:"string"},"dry-run":{type:"boolean"},"permission-mode":{type:"string"},model:{type:"string"}},1),launch=oneOf("--launch",values.launch??"print",["print","tmux","headless"]),deps=oneOf("--deps",values.deps??"auto",["auto","none"]),{startCommand}=await import("./start-AAFLWXKS.mjs");return startCommand({target:positionals[0],phase:values.phase===void 0?void 0:phaseNumber(values.phase),launch,deps,dryRun:values["dry-run"]===!0,permissionMode:values["permission-mode"],model:values.model},io)}case"sync":{let{values,positionals}=parse(rest,{phase:{type:"string"},"dry-run":{type:"boolean"},"no-verify":{type:"boolean"},verify:{type:"string"},"keep-worktrees":{type:"boolean"},"no-next":{type:"boolean"},"allow-outside-owns":{type:"boolean"}},1),{syncCommand}=await import("./sync-UCNDCHPE.mjs");return syncCommand({slug:positionals[0],phase:values.phase===void 0?void 0:phaseNumber(values.phase),dryRun:values["dry-run"]===!0,verify:values["no-verify"]!==!0,verifyCommand:values.verify,keepWorktrees:values["keep-worktrees"]===!0,next:values["no-next"]!==!0,allowOutsideOwns:values["allow-outside-owns"]===!0},io)}case"finish":{let{values,positionals}=parse(rest,{pr:{type:"boolean"}},1),{finishCommand}=await import("./finish-KLURLJ7P.mjs");return finishCommand({slug:positionals[0],pr:values.pr===!0},io)}case"clean":{let{values,positionals}=parse(rest,{force:{type:"boolean"},"dry-run":{type:"boolean"}},1),{cleanCommand}=await import("./clean-NCRRCVDK.mjs");return cleanCommand({slug:positionals[0],force:values.force===!0,dryRun:values["dry-run"]===!0},io)}case"skip":{let{values,positionals}=parse(rest,{reason:{type:"string"},undo:{type:"boolean"}},2);if(!positionals[0])throw usageError("`skip` needs the task's id","run `claude-parallel skip <task> [slug] --reason TEXT`");let{skipCommand}=await import("./skip-5POHIOWW.mjs");return skipCommand({task:positionals[0],slug:positionals[1],reason:values.reason,undo:values.undo===!0},io)}case"replan":{let{values,positionals}=parse(rest,{"dry-run":{type:"boolean"}},1),{replanCommand}=await import("./replan-6JLIOEGF.mjs");return replanCommand({target:positionals[0],dryRun:values["dry-run"]===!0},io)}case"status":{let{values,positionals}=parse(rest,{json:{type:"boolean"},verify:{type:"boolean"}},1),{statusCommand}=await import("./status-BKM6EBK6.mjs");return statusCommand({slug:positionals[0],json:values.json===!0,verify:values.verify===!0},io)}case"_hook":{let{hookCommand}=await import("./run-ACMHALYK.mjs");return hookCommand(rest[0])}case"_supervise":{let{supervise}=await import("./headless-NV2OFJKS.mjs");return await supervise(rest[0]),ExitCode.ok}case"context":{let{renderContext}=await import("./context-SW76NRWX.mjs");return io.stdout(await renderContext({cwd:io.cwd,helperPath:helperPath(),nodeVersion:process.version})),ExitCode.ok}default:throw usageError(`unknown command \`${command}\`${didYouMean(command,COMMANDS)}`,`use one of: ${COMMANDS.join(", ")}`)}}function oneOf(option,value,allowed){if(allowed.includes(value))return value;throw usageError(`${option} must be one of ${allowed.join(", ")}, not \`${value}\`${didYouMean(value,allowed)}`)}function phaseNumber(value){if(!/^[1-9][0-9]{0,3}$/.test(value))throw usageError(`--phase takes a phase number (1, 2, ...), not \`${value}\``);return Number(value)}function parse(args,options,positionals){var _a;let parsed;try{parsed=parseArgs({args,options,allowPositionals:!0,strict:!0})}catch(error){let message=error.message,unknown=(_a=/Unknown option '(-{1,2}[^']*)'/.exec(message))==null?void 0:_a[1];throw usageError(unknown?`unknown option \`${unknown}\`${didYouMean(unknown.replace(/^-+/,""),Object.keys(options).map(o=>o))}`:message.split(".")[0])}if(parsed.positionals.length>positionals)throw usageError(`unexpected argument \`${parsed.positionals[positionals]}\``);return parsed}async function main(){process.stdout.on("error",error=>{throw error.code==="EPIPE"&&process.exit(process.exitCode??0),error});let code=await run(process.argv.slice(2),{cwd:process.cwd(),stdout:t=>process.stdout.write(terminalSafe(t)),stderr:t=>process.stderr.write(terminalSafe(t))});process.exitCode=code}export{main,run};
