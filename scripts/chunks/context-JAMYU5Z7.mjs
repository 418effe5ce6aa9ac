import { createRequire as __createRequire } from "node:module";
const require = __createRequire(import.meta.url);
import{a as d,d as y,e as w,f as $,g as b,h as k,l as P,o as A,q as v,r as x}from"./chunk-WYZN3Q6R.mjs";import"./chunk-5ZW4BYXR.mjs";import"./chunk-7DZMPRCW.mjs";import"./chunk-WNA5ISSF.mjs";import{m as E}from"./chunk-GBXHKPDS.mjs";import"./chunk-WIGJMF6X.mjs";import"./chunk-FXI4EKQ2.mjs";import"./chunk-E6BCGTX6.mjs";import{a}from"./chunk-XII3MDSZ.mjs";import{basename as C,join as R,resolve as I}from"path";var M=`version: 1
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
`,N=`Plan file: YAML at .parallel/<slug>/plan.yaml.
Top level: version: 1 (required), feature (required), slug (default: the plan's folder name
under .parallel/, else derived from feature), base (default: current branch),
integrationBranch (default feature/<slug>), worktreeRoot (default ..), maxParallel (default 4),
verify (command run on the merged result at every sync), tasks (at least one).
Each task: id ([a-z][a-z0-9-]*, at most 32, unique; required), title (required), agent (role,
default the id), prompt (the session's instructions), dependsOn (task ids), owns (paths or globs
the task may change; owning a folder owns what is below it), produces / consumes (contract files;
consuming what another task produces makes a dependency), verify (command that must pass in the
task's worktree before its merge), estimate (relative size, default 1).
Tasks that own overlapping paths never run in the same phase. Unknown keys are errors.`;async function B(e){let t=["# claude-parallel context",""],s=`node ${JSON.stringify(e.helperPath)}`;try{t.push(...await j(e))}catch(n){t.push(`Problem: could not inspect the repository (${n.message}).`,"")}return t.push("## Helper","",`Absolute path: ${e.helperPath}`,`Validate and render a plan: ${s} plan .parallel/<slug>/plan.yaml`,`JSON Schema of the plan file: ${s} schema`,"","## Plan format","",N,"","Worked example:","","```yaml",M.trimEnd(),"```",""),t.join(`
`)}a(B,"renderContext");async function j(e){var g;let t=["## Repository",""],[s,n]=await Promise.all([w(e.cwd),b(e.cwd)]),r=[];if(s?$(s)||r.push(`git ${s.text} is too old: claude-parallel needs git ${y.join(".")} or newer (for \`git merge-tree --write-tree\`). Upgrade git.`):r.push("git is not installed or cannot be run: install git 2.38 or newer."),Number(((g=/^v?(\d+)/.exec(e.nodeVersion))==null?void 0:g[1])??0)<20&&r.push(`Node ${e.nodeVersion} is too old: the helper needs Node 20 or newer.`),!n)return r.push(`${e.cwd} is not inside a git repository. Parallel sessions each work in a git worktree, so the feature needs a repository: run \`git init\` and make a first commit, or open Claude Code in your project.`),t.push(`- Folder: ${e.cwd}`,""),[...t,...S(r)];let[l,o,h,c,m]=await Promise.all([d(["rev-parse","--verify","--quiet","HEAD"],n.root),d(["--no-optional-locks","status","--porcelain","--untracked-files=normal"],n.root),d(["worktree","list","--porcelain"],n.root),x(n.root),d(["rev-parse","--git-common-dir"],n.root)]),u=await V(n.root,n.branch,I(n.root,m.stdout));l.exitCode!==0&&r.push("The repository has no commit yet: worktrees start from a commit. Make a first commit (for example `git add -A && git commit -m 'Initial commit'`), then plan.");let p=o.stdout?o.stdout.split(`
`).length:0;return t.push(`- Name: ${C(n.root)}`,`- Root: ${n.root}`,`- Current branch: ${n.branch??"(detached HEAD: set `base:` in the plan)"}`,`- Working tree: ${p===0?"clean":`${p} uncommitted ${p===1?"change":"changes"} (sessions start from commits: commit what they should see)`}`,`- git ${(s==null?void 0:s.text)??"missing"}, Node ${e.nodeVersion}`,"","## Worktrees","",...O(h.stdout).map(f=>`- ${f.path} (${f.branch??"detached"})`),"","## Existing plans","",...u.length?u:["(none)"],"","## Roles defined in this repository","",...c.length?c.map(L):["(none: sessions get a written brief instead of a role command)"],""),[...t,...S(r)]}a(j,"repositorySection");function q(e,t){if(!e)return"not started";if(e.finishedAt)return"finished (merged into its base)";let s=Object.values(e.phases).filter(r=>r.syncedAt).length,n=Object.keys(e.phases).map(Number).find(r=>!e.phases[String(r)].syncedAt);return n!==void 0?`phase ${n} of ${t} in progress (${s} synced)`:s===t?"every phase synced; ready to finish":`${s} of ${t} phases synced`}a(q,"progress");function S(e){return e.length?["## Problems","",...e.map(t=>`- ${t}`),""]:[]}a(S,"problemLines");function L(e){let t=e.kind==="command"?`command /${e.name}`:`agent ${e.name}`;return`- ${e.name}: ${t} (${e.file})${e.description?`: ${e.description}`:""}`}a(L,"describeRole");function O(e){let t=[];for(let s of e.split(`
`))s.startsWith("worktree ")?t.push({path:s.slice(9)}):s.startsWith("branch ")&&t.length&&(t[t.length-1].branch=s.slice(18));return t}a(O,"parseWorktrees");async function V(e,t,s){let n=[];for(let r of await A(e)){let i=R(P,r,"plan.yaml");try{let l=await v(R(e,i),i),o=k(l,{repoName:C(e),currentBranch:t,roles:new Map,planFolder:r}),h=o.phases.reduce((c,m)=>c+m.tasks.length,0);n.push(`- ${i}: valid, "${o.feature}", ${h} tasks in ${o.phases.length} phases; ${q(await E(s,o.slug).catch(()=>{}),o.phases.length)}`)}catch(l){n.push(`- ${i}: invalid: ${l.message.split(`
`)[0]}`)}}return n}a(V,"listPlans");export{O as parseWorktrees,B as renderContext};
