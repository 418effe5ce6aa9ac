import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as l,c as f,d as y,e as w,f as $,g as b,k,n as P,p as A,q as v}from"./chunk-SQF2LX74.mjs";import"./chunk-CVWNXXPZ.mjs";import"./chunk-2UT5JZYG.mjs";import"./chunk-S464KVEK.mjs";import{c as x}from"./chunk-WYWM5EQB.mjs";import"./chunk-O4RSHTWI.mjs";import"./chunk-N7V7EXH6.mjs";import"./chunk-G7Q5WIIQ.mjs";import{basename as S,join as N,resolve as C}from"path";var E=`version: 1
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
`,M=`Plan file: YAML at .parallel/<slug>/plan.yaml.
Top level: version: 1 (required), feature (required), slug (default: the plan's folder name
under .parallel/, else derived from feature), base (default: current branch),
integrationBranch (default feature/<slug>), worktreeRoot (default ..), maxParallel (default 4),
verify (command run on the merged result at every sync), tasks (at least one).
Each task: id ([a-z][a-z0-9-]*, at most 32, unique; required), title (required), agent (role,
default the id), prompt (the session's instructions), dependsOn (task ids), owns (paths or globs
the task may change; owning a folder owns what is below it), produces / consumes (contract files;
consuming what another task produces makes a dependency), verify (command that must pass in the
task's worktree before its merge), estimate (relative size, default 1).
Tasks that own overlapping paths never run in the same phase. Unknown keys are errors.`;async function Y(e){let t=["# claude-parallel context",""],s=`node ${JSON.stringify(e.helperPath)}`;try{t.push(...await I(e))}catch(n){t.push(`Problem: could not inspect the repository (${n.message}).`,"")}return t.push("## Helper","",`Absolute path: ${e.helperPath}`,`Validate and render a plan: ${s} plan .parallel/<slug>/plan.yaml`,`JSON Schema of the plan file: ${s} schema`,"","## Plan format","",M,"","Worked example:","","```yaml",E.trimEnd(),"```",""),t.join(`
`)}async function I(e){var u;let t=["## Repository",""],[s,n]=await Promise.all([y(e.cwd),$(e.cwd)]),r=[];if(s?w(s)||r.push(`git ${s.text} is too old: claude-parallel needs git ${f.join(".")} or newer (for \`git merge-tree --write-tree\`). Upgrade git.`):r.push("git is not installed or cannot be run: install git 2.38 or newer."),Number(((u=/^v?(\d+)/.exec(e.nodeVersion))==null?void 0:u[1])??0)<20&&r.push(`Node ${e.nodeVersion} is too old: the helper needs Node 20 or newer.`),!n)return r.push(`${e.cwd} is not inside a git repository. Parallel sessions each work in a git worktree, so the feature needs a repository: run \`git init\` and make a first commit, or open Claude Code in your project.`),t.push(`- Folder: ${e.cwd}`,""),[...t,...R(r)];let[i,o,c,d,h]=await Promise.all([l(["rev-parse","--verify","--quiet","HEAD"],n.root),l(["--no-optional-locks","status","--porcelain","--untracked-files=normal"],n.root),l(["worktree","list","--porcelain"],n.root),v(n.root),l(["rev-parse","--git-common-dir"],n.root)]),m=await O(n.root,n.branch,C(n.root,h.stdout));i.exitCode!==0&&r.push("The repository has no commit yet: worktrees start from a commit. Make a first commit (for example `git add -A && git commit -m 'Initial commit'`), then plan.");let p=o.stdout?o.stdout.split(`
`).length:0;return t.push(`- Name: ${S(n.root)}`,`- Root: ${n.root}`,`- Current branch: ${n.branch??"(detached HEAD: set `base:` in the plan)"}`,`- Working tree: ${p===0?"clean":`${p} uncommitted ${p===1?"change":"changes"} (sessions start from commits: commit what they should see)`}`,`- git ${(s==null?void 0:s.text)??"missing"}, Node ${e.nodeVersion}`,"","## Worktrees","",...L(c.stdout).map(g=>`- ${g.path} (${g.branch??"detached"})`),"","## Existing plans","",...m.length?m:["(none)"],"","## Roles defined in this repository","",...d.length?d.map(q):["(none: sessions get a written brief instead of a role command)"],""),[...t,...R(r)]}function j(e,t){if(!e)return"not started";if(e.finishedAt)return"finished (merged into its base)";let s=Object.values(e.phases).filter(r=>r.syncedAt).length,n=Object.keys(e.phases).map(Number).find(r=>!e.phases[String(r)].syncedAt);return n!==void 0?`phase ${n} of ${t} in progress (${s} synced)`:s===t?"every phase synced; ready to finish":`${s} of ${t} phases synced`}function R(e){return e.length?["## Problems","",...e.map(t=>`- ${t}`),""]:[]}function q(e){let t=e.kind==="command"?`command /${e.name}`:`agent ${e.name}`;return`- ${e.name}: ${t} (${e.file})${e.description?`: ${e.description}`:""}`}function L(e){let t=[];for(let s of e.split(`
`))s.startsWith("worktree ")?t.push({path:s.slice(9)}):s.startsWith("branch ")&&t.length&&(t[t.length-1].branch=s.slice(18));return t}async function O(e,t,s){let n=[];for(let r of await P(e)){let a=N(k,r,"plan.yaml");try{let i=await A(N(e,a),a),o=b(i,{repoName:S(e),currentBranch:t,roles:new Map,planFolder:r}),c=o.phases.reduce((d,h)=>d+h.tasks.length,0);n.push(`- ${a}: valid, "${o.feature}", ${c} tasks in ${o.phases.length} phases; ${j(await x(s,o.slug),o.phases.length)}`)}catch(i){n.push(`- ${a}: invalid: ${i.message.split(`
`)[0]}`)}}return n}export{L as parseWorktrees,Y as renderContext};
