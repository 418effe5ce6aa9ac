import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as d,b as y,c as w,d as $,e as b,f as k,i as P,j as v}from"./chunk-5LBJYRFU.mjs";import"./chunk-CVWNXXPZ.mjs";import"./chunk-2UT5JZYG.mjs";import"./chunk-S464KVEK.mjs";import{c as A}from"./chunk-WYWM5EQB.mjs";import"./chunk-O4RSHTWI.mjs";import"./chunk-N7V7EXH6.mjs";import"./chunk-G7Q5WIIQ.mjs";import{readdir as R,stat as S}from"fs/promises";import{basename as N,join as u,resolve as C}from"path";var x=`version: 1
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
`,E=`Plan file: YAML at .parallel/<slug>/plan.yaml.
Top level: version: 1 (required), feature (required), slug (default: the plan's folder name
under .parallel/, else derived from feature), base (default: current branch),
integrationBranch (default feature/<slug>), worktreeRoot (default ..), maxParallel (default 4),
verify (command run on the merged result at every sync), tasks (at least one).
Each task: id ([a-z][a-z0-9-]*, at most 32, unique; required), title (required), agent (role,
default the id), prompt (the session's instructions), dependsOn (task ids), owns (paths or globs
the task may change; owning a folder owns what is below it), produces / consumes (contract files;
consuming what another task produces makes a dependency), verify (command that must pass in the
task's worktree before its merge), estimate (relative size, default 1).
Tasks that own overlapping paths never run in the same phase. Unknown keys are errors.`;async function Y(e){let t=["# claude-parallel context",""],n=`node ${JSON.stringify(e.helperPath)}`;try{t.push(...await j(e))}catch(r){t.push(`Problem: could not inspect the repository (${r.message}).`,"")}return t.push("## Helper","",`Absolute path: ${e.helperPath}`,`Validate and render a plan: ${n} plan .parallel/<slug>/plan.yaml`,`JSON Schema of the plan file: ${n} schema`,"","## Plan format","",E,"","Worked example:","","```yaml",x.trimEnd(),"```",""),t.join(`
`)}async function j(e){var g;let t=["## Repository",""],[n,r]=await Promise.all([w(e.cwd),b(e.cwd)]),s=[];if(n?$(n)||s.push(`git ${n.text} is too old: claude-parallel needs git ${y.join(".")} or newer (for \`git merge-tree --write-tree\`). Upgrade git.`):s.push("git is not installed or cannot be run: install git 2.38 or newer."),Number(((g=/^v?(\d+)/.exec(e.nodeVersion))==null?void 0:g[1])??0)<20&&s.push(`Node ${e.nodeVersion} is too old: the helper needs Node 20 or newer.`),!r)return s.push(`${e.cwd} is not inside a git repository. Parallel sessions each work in a git worktree, so the feature needs a repository: run \`git init\` and make a first commit, or open Claude Code in your project.`),t.push(`- Folder: ${e.cwd}`,""),[...t,...M(s)];let[h,a,i,o,m]=await Promise.all([d(["rev-parse","--verify","--quiet","HEAD"],r.root),d(["--no-optional-locks","status","--porcelain","--untracked-files=normal"],r.root),d(["worktree","list","--porcelain"],r.root),v(r.root),d(["rev-parse","--git-common-dir"],r.root)]),p=await O(r.root,r.branch,C(r.root,m.stdout));h.exitCode!==0&&s.push("The repository has no commit yet: worktrees start from a commit. Make a first commit (for example `git add -A && git commit -m 'Initial commit'`), then plan.");let l=a.stdout?a.stdout.split(`
`).length:0;return t.push(`- Name: ${N(r.root)}`,`- Root: ${r.root}`,`- Current branch: ${r.branch??"(detached HEAD: set `base:` in the plan)"}`,`- Working tree: ${l===0?"clean":`${l} uncommitted ${l===1?"change":"changes"} (sessions start from commits: commit what they should see)`}`,`- git ${(n==null?void 0:n.text)??"missing"}, Node ${e.nodeVersion}`,"","## Worktrees","",...L(i.stdout).map(f=>`- ${f.path} (${f.branch??"detached"})`),"","## Existing plans","",...p.length?p:["(none)"],"","## Roles defined in this repository","",...o.length?o.map(I):["(none: sessions get a written brief instead of a role command)"],""),[...t,...M(s)]}function q(e,t){if(!e)return"not started";if(e.finishedAt)return"finished (merged into its base)";let n=Object.values(e.phases).filter(s=>s.syncedAt).length,r=Object.keys(e.phases).map(Number).find(s=>!e.phases[String(s)].syncedAt);return r!==void 0?`phase ${r} of ${t} in progress (${n} synced)`:n===t?"every phase synced; ready to finish":`${n} of ${t} phases synced`}function M(e){return e.length?["## Problems","",...e.map(t=>`- ${t}`),""]:[]}function I(e){let t=e.kind==="command"?`command /${e.name}`:`agent ${e.name}`;return`- ${e.name}: ${t} (${e.file})${e.description?`: ${e.description}`:""}`}function L(e){let t=[];for(let n of e.split(`
`))n.startsWith("worktree ")?t.push({path:n.slice(9)}):n.startsWith("branch ")&&t.length&&(t[t.length-1].branch=n.slice(18));return t}async function O(e,t,n){let r=u(e,".parallel"),s;try{s=(await R(r)).sort()}catch{return[]}let c=[];for(let h of s){let a=u(".parallel",h,"plan.yaml");try{await S(u(e,a))}catch{continue}try{let i=await P(u(e,a),a),o=k(i,{repoName:N(e),currentBranch:t,roles:new Map,planFolder:h}),m=o.phases.reduce((p,l)=>p+l.tasks.length,0);c.push(`- ${a}: valid, "${o.feature}", ${m} tasks in ${o.phases.length} phases; ${q(await A(n,o.slug),o.phases.length)}`)}catch(i){c.push(`- ${a}: invalid: ${i.message.split(`
`)[0]}`)}}return c}export{L as parseWorktrees,Y as renderContext};
