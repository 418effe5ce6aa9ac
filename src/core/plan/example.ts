/** A complete small plan, shown to Claude by `context` and checked by the tests. */
export const EXAMPLE_PLAN = `version: 1
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
`;

export const SCHEMA_SUMMARY = `Plan file: YAML at .parallel/<slug>/plan.yaml.
Top level: version: 1 (required), feature (required), slug (default: the plan's folder name
under .parallel/, else derived from feature), base (default: current branch),
integrationBranch (default feature/<slug>), worktreeRoot (default ..), maxParallel (default 4),
verify (command run on the merged result at every sync), tasks (at least one).
Each task: id ([a-z][a-z0-9-]*, at most 32, unique; required), title (required), agent (role,
default the id), prompt (the session's instructions), dependsOn (task ids), owns (paths or globs
the task may change; owning a folder owns what is below it), produces / consumes (contract files;
consuming what another task produces makes a dependency), verify (command that must pass in the
task's worktree before its merge), estimate (relative size, default 1).
Tasks that own overlapping paths never run in the same phase. Unknown keys are errors.`;
