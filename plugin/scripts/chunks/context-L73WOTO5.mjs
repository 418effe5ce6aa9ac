import{currentPhase}from"./chunk-4T2NBN7R.mjs";import{helperPath}from"./chunk-OMGBJS5W.mjs";import{MIN_GIT,git,gitIsRecentEnough,gitVersion,locateRepo}from"./chunk-6YOUVDQM.mjs";import"./chunk-XEQJNAU4.mjs";import{PLANS_DIR,buildPlan,findRoles,plansIn,readPlanFile}from"./chunk-CTAWXQTW.mjs";import"./chunk-QYJ4N5LK.mjs";import"./chunk-UBDE4MCA.mjs";import"./chunk-VC7DHYR4.mjs";import"./chunk-URB2L32R.mjs";import"./chunk-XRTKSYAL.mjs";import"./chunk-HLHTRZSU.mjs";import{readState}from"./chunk-CCUCO3AK.mjs";import"./chunk-6TGMFKHL.mjs";import"./chunk-WUUBA5KZ.mjs";import"./chunk-IUFJHM4U.mjs";import"./chunk-DOOWYP5X.mjs";import"./chunk-XZMUZUID.mjs";import"./chunk-CAHMY4WV.mjs";import{ExitCode}from"./chunk-NJZLQNUV.mjs";import"./chunk-YT4JJS4X.mjs";import{homedir}from"os";import{basename,join}from"path";var EXAMPLE_PLAN=`version: 1
feature: Add user authentication
maxParallel: 4
verify: npm test
tasks:
  - id: designer
    title: Design the login and signup screens
    prompt: Add design tokens and specs for the login and signup forms.
    owns: [design/]
    produces: [design/auth-tokens.yaml]
  - id: data
    title: Users table and sessions schema
    owns: [db/migrations/, db/schema.sql]
    produces: [contracts/db-auth.yaml, contracts/api-auth.yaml]
  - id: backend
    title: Auth API (signup, login, logout)
    owns: [src/server/auth/]
    consumes: [contracts/db-auth.yaml, contracts/api-auth.yaml]
    verify: npm test -- server/auth
    estimate: 2
  - id: frontend
    title: Login and signup forms
    owns: [src/web/auth/]
    consumes: [design/auth-tokens.yaml, contracts/api-auth.yaml]
    estimate: 2
  - id: qa
    title: End-to-end tests for the auth flow
    dependsOn: [backend, frontend]
    owns: [tests/e2e/auth/]
`,SCHEMA_SUMMARY=`Plan file: YAML at .parallel/<slug>/plan.yaml.
Top level: version: 1 (required), feature (required), slug (default: the plan's folder name
under .parallel/, else derived from feature), base (default: current branch),
integrationBranch (default feature/<slug>), worktreeRoot (default ..), maxParallel (default 4),
verify (command run on the merged result at every sync), tasks (at least one).
Each task: id ([a-z][a-z0-9-]*, at most 32, unique; required), title (required), agent (role,
default the id), prompt (the session's instructions), dependsOn (task ids), owns (paths or globs
the task may change; owning a folder owns what is below it), produces / consumes (contract files;
consuming what another task produces makes a dependency), verify (command that must pass in the
task's worktree before its merge), estimate (relative size, default 1).
Tasks that own overlapping paths never run in the same phase. Unknown keys are errors.`;async function renderContext(input){let out=["# claude-parallel context",""],helper=`node ${JSON.stringify(input.helperPath)}`;try{out.push(...await repositorySection(input))}catch(error){out.push(`Problem: could not inspect the repository (${error.message}).`,"")}return out.push("## Helper","",`Absolute path: ${input.helperPath}`,`Validate and render a plan: ${helper} plan .parallel/<slug>/plan.yaml`,`JSON Schema of the plan file: ${helper} schema`,"","## Plan format","",SCHEMA_SUMMARY,"","Worked example:","","```yaml",EXAMPLE_PLAN.trimEnd(),"```",""),out.join(`
`)}async function repositorySection(input){var _a;let out=["## Repository",""],looking=Promise.all([git(["--no-optional-locks","status","--porcelain","--untracked-files=normal"],input.cwd),git(["worktree","list","--porcelain"],input.cwd)]);looking.catch(()=>{});let[version,repo]=await Promise.all([gitVersion(input.cwd),locateRepo(input.cwd)]),problems=[];if(version?gitIsRecentEnough(version)||problems.push(`git ${version.text} is too old: claude-parallel needs git ${MIN_GIT.join(".")} or newer (for \`git merge-tree --write-tree\`). Upgrade git.`):problems.push("git is not installed or cannot be run: install git 2.38 or newer."),Number(((_a=/^v?(\d+)/.exec(input.nodeVersion))==null?void 0:_a[1])??0)<20&&problems.push(`Node ${input.nodeVersion} is too old: the helper needs Node 20 or newer.`),!repo)return problems.push(`${input.cwd} is not inside a git repository. Parallel sessions each work in a git worktree, so the feature needs a repository: run \`git init\` and make a first commit, or open Claude Code in your project.`),out.push(`- Folder: ${input.cwd}`,""),[...out,...problemLines(problems)];let[[status,worktrees],roles,plans]=await Promise.all([looking,findRoles(repo.root),listPlans(repo.root,repo.branch,repo.commonDir)]);repo.hasCommit||problems.push("The repository has no commit yet: worktrees start from a commit. Make a first commit (for example `git add -A && git commit -m 'Initial commit'`), then plan.");let changes=status.stdout?status.stdout.split(`
`).filter(line=>!/^.. "?\.parallel\//.test(line)).length:0;return out.push(`- Name: ${basename(repo.root)}`,`- Root: ${repo.root}`,`- Current branch: ${repo.branch??"(detached HEAD: set `base:` in the plan)"}`,`- Working tree: ${changes===0?"clean":`${changes} uncommitted ${changes===1?"change":"changes"} (sessions start from commits: commit what they should see)`}; plans in ${PLANS_DIR}/ need not be committed`,`- git ${(version==null?void 0:version.text)??"missing"}, Node ${input.nodeVersion}`,"","## Worktrees","",...parseWorktrees(worktrees.stdout).map(w=>`- ${w.path} (${w.branch??"detached"})`),"","## Existing plans","",...plans.length?plans:["(none)"],"","## Roles defined in this repository","",...roles.length?roles.map(describeRole):["(none: sessions get a written brief instead of a role command)"],""),[...out,...problemLines(problems)]}function progress(state,plan){if(!state)return"not started";if(state.finishedAt)return"finished (merged into its base)";let phases=plan.phases.length,synced=Object.values(state.phases).filter(p=>p.syncedAt).length,current=currentPhase(state,plan);return current&&state.phases[String(current.index)]?`phase ${current.index} of ${phases} in progress (${synced} synced)`:synced===phases?"every phase synced; ready to finish":`${synced} of ${phases} phases synced`}function problemLines(problems){return problems.length?["## Problems","",...problems.map(p=>`- ${p}`),""]:[]}function describeRole(role){let how=role.kind==="command"?`command /${role.name}`:`agent ${role.name}`;return`- ${role.name}: ${how} (${role.file})${role.description?`: ${role.description}`:""}`}function parseWorktrees(porcelain){let list=[];for(let line of porcelain.split(`
`))line.startsWith("worktree ")?list.push({path:line.slice(9)}):line.startsWith("branch ")&&list.length&&(list[list.length-1].branch=line.slice(18));return list}async function listPlans(root,branch,commonDir){let lines=[];for(let slug of await plansIn(root)){let file=join(PLANS_DIR,slug,"plan.yaml");try{let loaded=await readPlanFile(join(root,file),file),plan=await buildPlan(loaded,{repoName:basename(root),currentBranch:branch,roles:new Map,planFolder:slug,root,gitCommonDir:commonDir,home:homedir()}),tasks=plan.phases.reduce((n,p)=>n+p.tasks.length,0);lines.push(`- ${file}: valid, "${plan.feature}", ${tasks} tasks in ${plan.phases.length} phases; ${progress(await readState(commonDir,plan.slug).catch(()=>{}),plan)}`)}catch(error){lines.push(`- ${file}: invalid: ${error.message.split(`
`)[0]}`)}}return lines}var spec={name:"context",synopsis:[],summary:["Print what /parallel needs to know about this repository."],inline:!0,details:["The repository, its branch and worktrees, existing plans, the roles it defines, the plan format and this helper's path. It never fails: a problem is reported in its output."],options:[],positionals:0,ignoresArguments:!0,exits:[ExitCode.ok]};async function run(_values,_positionals,io){return io.stdout(await renderContext({cwd:io.cwd,helperPath:helperPath(),nodeVersion:process.version})),ExitCode.ok}export{run,spec};
