import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as h,b as f,c as w,d as y,e as k,f as $,i as b,j as P}from"./chunk-5LBJYRFU.mjs";import"./chunk-CVWNXXPZ.mjs";import"./chunk-2UT5JZYG.mjs";import"./chunk-S464KVEK.mjs";import"./chunk-N7V7EXH6.mjs";import"./chunk-G7Q5WIIQ.mjs";import{readdir as M,stat as R}from"fs/promises";import{basename as E,join as m}from"path";var x=`version: 1
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
`,A=`Plan file: YAML at .parallel/<slug>/plan.yaml.
Top level: version: 1 (required), feature (required), slug (default: the plan's folder name
under .parallel/, else derived from feature), base (default: current branch),
integrationBranch (default feature/<slug>), worktreeRoot (default ..), maxParallel (default 4),
verify (command run on the merged result at every sync), tasks (at least one).
Each task: id ([a-z][a-z0-9-]*, at most 32, unique; required), title (required), agent (role,
default the id), prompt (the session's instructions), dependsOn (task ids), owns (paths or globs
the task may change; owning a folder owns what is below it), produces / consumes (contract files;
consuming what another task produces makes a dependency), verify (command that must pass in the
task's worktree before its merge), estimate (relative size, default 1).
Tasks that own overlapping paths never run in the same phase. Unknown keys are errors.`;async function O(e){let t=["# claude-parallel context",""],s=`node ${JSON.stringify(e.helperPath)}`;try{t.push(...await N(e))}catch(n){t.push(`Problem: could not inspect the repository (${n.message}).`,"")}return t.push("## Helper","",`Absolute path: ${e.helperPath}`,`Validate and render a plan: ${s} plan .parallel/<slug>/plan.yaml`,`JSON Schema of the plan file: ${s} schema`,"","## Plan format","",A,"","Worked example:","","```yaml",x.trimEnd(),"```",""),t.join(`
`)}async function N(e){var u;let t=["## Repository",""],[s,n]=await Promise.all([w(e.cwd),k(e.cwd)]),r=[];if(s?y(s)||r.push(`git ${s.text} is too old: claude-parallel needs git ${f.join(".")} or newer (for \`git merge-tree --write-tree\`). Upgrade git.`):r.push("git is not installed or cannot be run: install git 2.38 or newer."),Number(((u=/^v?(\d+)/.exec(e.nodeVersion))==null?void 0:u[1])??0)<20&&r.push(`Node ${e.nodeVersion} is too old: the helper needs Node 20 or newer.`),!n)return r.push(`${e.cwd} is not inside a git repository. Parallel sessions each work in a git worktree, so the feature needs a repository: run \`git init\` and make a first commit, or open Claude Code in your project.`),t.push(`- Folder: ${e.cwd}`,""),[...t,...v(r)];let[a,o,i,d,c]=await Promise.all([h(["rev-parse","--verify","--quiet","HEAD"],n.root),h(["status","--porcelain","--untracked-files=normal"],n.root),h(["worktree","list","--porcelain"],n.root),P(n.root),I(n.root,n.branch)]);a.exitCode!==0&&r.push("The repository has no commit yet: worktrees start from a commit. Make a first commit (for example `git add -A && git commit -m 'Initial commit'`), then plan.");let l=o.stdout?o.stdout.split(`
`).length:0;return t.push(`- Name: ${E(n.root)}`,`- Root: ${n.root}`,`- Current branch: ${n.branch??"(detached HEAD: set `base:` in the plan)"}`,`- Working tree: ${l===0?"clean":`${l} uncommitted ${l===1?"change":"changes"} (sessions start from commits: commit what they should see)`}`,`- git ${(s==null?void 0:s.text)??"missing"}, Node ${e.nodeVersion}`,"","## Worktrees","",...q(i.stdout).map(g=>`- ${g.path} (${g.branch??"detached"})`),"","## Existing plans","",...c.length?c:["(none)"],"","## Roles defined in this repository","",...d.length?d.map(C):["(none: sessions get a written brief instead of a role command)"],""),[...t,...v(r)]}function v(e){return e.length?["## Problems","",...e.map(t=>`- ${t}`),""]:[]}function C(e){let t=e.kind==="command"?`command /${e.name}`:`agent ${e.name}`;return`- ${e.name}: ${t} (${e.file})${e.description?`: ${e.description}`:""}`}function q(e){let t=[];for(let s of e.split(`
`))s.startsWith("worktree ")?t.push({path:s.slice(9)}):s.startsWith("branch ")&&t.length&&(t[t.length-1].branch=s.slice(18));return t}async function I(e,t){let s=m(e,".parallel"),n;try{n=(await M(s)).sort()}catch{return[]}let r=[];for(let p of n){let a=m(".parallel",p,"plan.yaml");try{await R(m(e,a))}catch{continue}try{let o=await b(m(e,a),a),i=$(o,{repoName:E(e),currentBranch:t,roles:new Map,planFolder:p}),d=i.phases.reduce((c,l)=>c+l.tasks.length,0);r.push(`- ${a}: valid, "${i.feature}", ${d} tasks in ${i.phases.length} phases`)}catch(o){r.push(`- ${a}: invalid: ${o.message.split(`
`)[0]}`)}}return r}export{q as parseWorktrees,O as renderContext};
