/**
 * The GitHub Actions workflow `ci init` writes: one run executes one phase of one feature, in six
 * jobs (plan, one task leg per task, land, sync, publish, next), and its last job dispatches the
 * next phase's run. A pure function of a few options, so the same options always give the same file.
 *
 * Least privilege by job: the jobs that run code a session wrote (the task legs: the session and
 * the task's verify; the sync: the plan's verify over the merged code) hold a token that can only
 * read. The jobs that write (plan, land, publish, next) run no project code at all: only the
 * helper, checked out from the workflow's own commit apart from the project, and git on data.
 *
 * Nothing from a plan is ever written into the workflow: the feature arrives as the dispatch's
 * `slug` input, the phase's tasks as the plan job's matrix output, and every such value reaches a
 * shell only through `env:` (never `${{ }}` inside `run:`, where GitHub would paste it into the
 * script before the shell parses it).
 */

/** The actions the workflow uses, pinned to full commit ids (the tag they were taken from in the comment). */
export const PINNED_ACTIONS = {
  checkout: { uses: "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", tag: "v7.0.1" },
  uploadArtifact: { uses: "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", tag: "v7.0.0" },
  downloadArtifact: { uses: "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", tag: "v8.0.1" },
  claudeCode: { uses: "anthropics/claude-code-action@24dcd50c0568f0fc9e9211213a4fd2d9eb15c4e0", tag: "v1.0.200" },
} as const;

export type OnLast = "pr" | "none";

/**
 * Where the workflow takes the helper (and the plugin its sessions load) from: the plugin folder
 * `pluginDir` and the folder `marketplaceDir` holding `.claude-plugin/marketplace.json`, in the
 * workflow's own commit (the repository commits the plugin, or a copy ci init wrote), or in another
 * repository at a pinned ref, whose helper must have the digest of the one that wrote the workflow.
 */
export interface HelperSource {
  pluginDir: string;
  marketplaceDir: string;
  pinned?: { repository: string; ref: string; digest: string };
}

export interface WorkflowOptions {
  /** Runner labels of every job (`ubuntu-latest`, or a self-hosted fleet's labels). */
  runner: string[];
  /** At most this many task legs at once. */
  maxParallel: number;
  /** After the last phase's sync: open the pull request into base, or stop. */
  onLast: OnLast;
  helper: HelperSource;
  /** The workflow's own file name, which the next job dispatches for the next phase. */
  fileName: string;
  /** claude-parallel's version, named in the header. */
  version: string;
}

export const WORKFLOW_PATH = ".github/workflows/claude-parallel.yml";
/** The project's setup steps: a composite action of the user's, which ci init writes once and never replaces. */
export const SETUP_ACTION_DIR = ".github/actions/claude-parallel-setup";
export const RUNNER_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** GitHub's limit on the legs of one matrix. */
export const MAX_MATRIX = 256;
/** Where the copy of the plugin lives when the repository does not commit the plugin itself: a one-plugin marketplace. */
export const VENDORED_DIR = ".github/claude-parallel";
/** The marketplace and plugin names the sessions install the plugin by (`plugins: parallel@claude-parallel`). */
export const MARKETPLACE_NAME = "claude-parallel";
export const PLUGIN_NAME = "parallel";
/** The job bot that `gh workflow run` with GITHUB_TOKEN makes the actor of the next phase's run. */
const DISPATCH_BOT = "github-actions";

/** Artifact names: each leg's, unique within the run; the sync job's verdict. */
export const legArtifactPrefix = "claude-parallel-phase-";
const verdictArtifactPrefix = "claude-parallel-verdict-";

/** Minutes: a hosted job's limit, and the session's share of it (the rest is setup, the leg's result and verify). */
const JOB_MINUTES = 360;
const SESSION_MINUTES = 300;

/** Where each job puts the helper's checkout: outside the workspace, so no session's checkout holds it. */
const HELPER_HOME = "$RUNNER_TEMP/claude-parallel";

const json = (value: string) => JSON.stringify(value);

/** The helper's path inside its checkout. */
export const helperEntry = (source: HelperSource) => `${source.pluginDir}/scripts/parallel.mjs`;

const under = (dir: string, name: string) => (dir === "." ? name : `${dir}/${name}`);

export function workflowYaml(o: WorkflowOptions): string {
  const runsOn = `[${o.runner.map(json).join(", ")}]`;
  const { checkout, uploadArtifact, downloadArtifact, claudeCode } = PINNED_ACTIONS;
  const run = (args: string) => `node "${HELPER_HOME}/$HELPER" ${args}`;
  const identity = [
    "    env:",
    "      GIT_AUTHOR_NAME: claude-parallel",
    "      GIT_AUTHOR_EMAIL: claude-parallel@users.noreply.github.com",
    "      GIT_COMMITTER_NAME: claude-parallel",
    "      GIT_COMMITTER_EMAIL: claude-parallel@users.noreply.github.com",
  ];
  const phaseEnv = "      RUN_PHASE: ${{ needs.plan.outputs.phase }}";
  const { pinned } = o.helper;
  const sparse = [o.helper.pluginDir, under(o.helper.marketplaceDir, ".claude-plugin")];
  const helperSteps = [
    "      # The helper, from the workflow's own commit (or its pinned source), checked out apart from the",
    "      # project and moved out of the workspace: no helper a session could have written ever runs.",
    `      - uses: ${checkout.uses} # ${checkout.tag}`,
    "        with:",
    ...(pinned ? [`          repository: ${pinned.repository}`, `          ref: ${pinned.ref}`] : ["          ref: ${{ github.sha }}"]),
    "          path: .claude-parallel-helper",
    "          persist-credentials: false",
    "          sparse-checkout: |",
    ...sparse.map((p) => `            ${p}`),
    "      - name: Move the helper out of the workspace",
    ...(pinned
      ? [
          "        run: |",
          "          # The pinned source must hold the very helper that wrote this workflow.",
          `          digest=$(cd .claude-parallel-helper/${o.helper.pluginDir}/scripts && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)`,
          `          if [ "$digest" != ${pinned.digest} ]; then echo "::error::${pinned.repository}@${pinned.ref} holds another helper than the one that wrote this workflow (digest $digest): run claude-parallel ci init --force with the helper you mean to pin" >&2; exit 1; fi`,
          `          mv .claude-parallel-helper "${HELPER_HOME}"`,
        ]
      : [`        run: mv .claude-parallel-helper "${HELPER_HOME}"`]),
  ];
  /** The project's checkout. A job that writes keeps checkout's credential for its pushes; it runs no project code. */
  const project = (extra: string[] = []) => [`      - uses: ${checkout.uses} # ${checkout.tag}`, "        with:", ...extra, "          fetch-depth: 0"];
  const pull = ["      - name: Fetch the feature's shared state and branches", `        run: ${run('pull "$SLUG"')}`];
  const setup = ["      - name: Your project's setup (yours to edit; ci init never replaces it)", `        uses: ./${SETUP_ACTION_DIR}`];
  const downloadLegs = [
    `      - uses: ${downloadArtifact.uses} # ${downloadArtifact.tag}`,
    "        with:",
    `          pattern: ${legArtifactPrefix}\${{ needs.plan.outputs.phase }}-*`,
    "          path: ${{ runner.temp }}/claude-parallel-legs",
  ];
  const record = ["      - name: Check the legs' results (done marks, verify runs, cost)", `        run: ${run('ci record "$SLUG" "$RUNNER_TEMP/claude-parallel-legs" --phase "$RUN_PHASE"')}`];
  /** A job after the task legs: it runs when the plan job started a phase and the job before it succeeded (the legs may fail). */
  const after = (name: string, previous: string, minutes: number, needsPrevious = true) => [
    `  ${name}:`,
    `    needs: [plan, ${previous}]`,
    `    if: \${{ !cancelled() && needs.plan.result == 'success' && needs.plan.outputs.count != '0'${needsPrevious ? ` && needs.${previous}.result == 'success'` : ""} }}`,
    `    runs-on: ${runsOn}`,
    `    timeout-minutes: ${minutes}`,
  ];

  const lines = [
    `# Generated by claude-parallel ${o.version} (claude-parallel ci init). Regenerate with: claude-parallel ci init --force`,
    "#",
    "# One run executes one phase of one feature. plan: starts the phase (task branches from the",
    "# integration branch's tip). task: one leg per task runs Claude Code on its branch with a",
    "# read-only token and hands its commits on as a git bundle. land: pushes each leg's commits with",
    "# a lease. sync: merges the phase and runs the plan's verify, read-only. publish: merges again in",
    "# memory, checks it is the tree the sync verified, publishes atomically with leases. next:",
    "# dispatches the next phase's run, or opens the pull request after the last. Start a feature with:",
    `#   gh workflow run ${o.fileName} -f slug=<slug>`,
    "# This file must be on the repository's default branch to be dispatched. Secrets:",
    "# ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN; optional CLAUDE_PARALLEL_PR_TOKEN (see docs/ci.md).",
    "name: claude-parallel",
    "run-name: claude-parallel ${{ inputs.slug }}${{ inputs.phase && format(' phase {0}', inputs.phase) || '' }}",
    "",
    "on:",
    "  workflow_dispatch:",
    "    inputs:",
    "      slug:",
    "        description: The feature's slug (its plan is .parallel/<slug>/plan.yaml on this branch)",
    "        required: true",
    "        type: string",
    "      phase:",
    "        description: The phase to run (empty for the first phase not synced yet)",
    "        required: false",
    "        type: string",
    '        default: ""',
    "",
    "# No job holds a permission it does not declare (and justify) below.",
    "permissions: {}",
    "",
    "# Two runs of one feature never overlap; a second one waits for the first.",
    "concurrency:",
    "  group: claude-parallel-${{ inputs.slug }}",
    "  cancel-in-progress: false",
    "",
    "env:",
    "  SLUG: ${{ inputs.slug }}",
    "  PHASE: ${{ inputs.phase }}",
    "  # The helper, inside its own checkout (see each job's first steps).",
    `  HELPER: ${json(helperEntry(o.helper))}`,
    "",
    "jobs:",
    "  plan:",
    `    runs-on: ${runsOn}`,
    "    timeout-minutes: 30",
    "    # contents: write: pushes the phase's task branches, the integration branch when new and the",
    "    # feature's state. It runs no project code (start with --deps none checks out, installs nothing).",
    "    permissions:",
    "      contents: write",
    ...identity,
    "    outputs:",
    "      matrix: ${{ steps.plan.outputs.matrix }}",
    "      phase: ${{ steps.plan.outputs.phase }}",
    "      count: ${{ steps.plan.outputs.count }}",
    "      last: ${{ steps.plan.outputs.last }}",
    "    steps:",
    ...helperSteps,
    ...project(),
    ...pull,
    "      - name: Start this run's phase and publish it (atomic, with leases)",
    "        id: plan",
    "        env:",
    "          RUN_ID: ${{ github.run_id }}",
    "        run: |",
    '          if [ -n "$PHASE" ]; then set -- --phase "$PHASE"; fi',
    `          ${run('ci plan "$SLUG" --run "$RUN_ID" --github-output "$@"')}`,
    "",
    "  task:",
    "    needs: plan",
    "    if: needs.plan.outputs.count != '0'",
    "    name: task ${{ matrix.task }}",
    `    runs-on: ${runsOn}`,
    `    timeout-minutes: ${JOB_MINUTES}`,
    "    # contents: read: the session and the task's verify run here, so this job's token (which the",
    "    # session can read) only reads. The leg's commits leave as an artifact; the land job pushes them.",
    "    permissions:",
    "      contents: read",
    "    strategy:",
    "      fail-fast: false",
    `      max-parallel: ${o.maxParallel}`,
    "      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}",
    "    env:",
    phaseEnv,
    "      TASK: ${{ matrix.task }}",
    "    steps:",
    ...helperSteps,
    ...project(["          ref: ${{ matrix.branch }}"]),
    ...pull,
    ...setup,
    "      - name: The session's brief, rules and arguments",
    "        id: prepare",
    `        run: ${run('ci prepare "$SLUG" "$TASK" --phase "$RUN_PHASE" --github-output')}`,
    "      - name: The task's session",
    "        id: claude",
    "        if: steps.prepare.outputs.session == 'true'",
    `        timeout-minutes: ${SESSION_MINUTES}`,
    `        uses: ${claudeCode.uses} # ${claudeCode.tag}`,
    "        with:",
    "          prompt: ${{ steps.prepare.outputs.prompt }}",
    "          claude_args: ${{ steps.prepare.outputs.claude_args }}",
    "          # The next phase's run is dispatched by the workflow's own token: its actor is this bot.",
    `          allowed_bots: ${DISPATCH_BOT}`,
    "          # The plugin's hooks tell the session its task and refuse edits outside its owned paths.",
    `          plugin_marketplaces: \${{ runner.temp }}/claude-parallel${o.helper.marketplaceDir === "." ? "" : `/${o.helper.marketplaceDir}`}`,
    `          plugins: ${PLUGIN_NAME}@${MARKETPLACE_NAME}`,
    "          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}",
    "          claude_code_oauth_token: ${{ secrets.CLAUDE_CODE_OAUTH_TOKEN }}",
    "          github_token: ${{ github.token }}",
    "      - name: The leg's result (its commits as a bundle, the session's outcome and cost, the task's verify)",
    "        if: always() && steps.prepare.outputs.leg == 'true'",
    "        env:",
    "          START: ${{ steps.prepare.outputs.start }}",
    "          OUTCOME: ${{ steps.claude.outcome }}",
    "          EXECUTION_FILE: ${{ steps.claude.outputs.execution_file }}",
    `        run: ${run('ci result "$SLUG" "$TASK" --phase "$RUN_PHASE" --start "$START" --outcome "$OUTCOME" --execution-file "$EXECUTION_FILE" --out "$RUNNER_TEMP/claude-parallel-leg"')}`,
    "      - name: Upload the leg's result",
    "        if: always() && steps.prepare.outputs.leg == 'true'",
    `        uses: ${uploadArtifact.uses} # ${uploadArtifact.tag}`,
    "        with:",
    `          name: ${legArtifactPrefix}\${{ needs.plan.outputs.phase }}-\${{ matrix.task }}`,
    "          path: ${{ runner.temp }}/claude-parallel-leg/",
    "          if-no-files-found: error",
    "          overwrite: true",
    "",
    ...after("land", "task", 30, false),
    "    # contents: write: pushes each leg's commits from its bundle (only forward, with a lease), the",
    "    # done mark of a leg whose session succeeded, and the feature's state (each leg's session). Runs",
    "    # no project code: git reads the bundles as data.",
    "    permissions:",
    "      contents: write",
    ...identity,
    phaseEnv,
    "    steps:",
    ...helperSteps,
    ...project(),
    ...downloadLegs,
    ...pull,
    "      - name: Push each leg's commits and record its session",
    `        run: ${run('ci land "$SLUG" "$RUNNER_TEMP/claude-parallel-legs" --phase "$RUN_PHASE"')}`,
    "",
    ...after("sync", "land", 120),
    "    # contents: read: the plan's verify runs the merged code here. Nothing is pushed from this job:",
    "    # it hands on only its verdict (the merged tree the verify passed on).",
    "    permissions:",
    "      contents: read",
    ...identity,
    phaseEnv,
    "    steps:",
    ...helperSteps,
    ...project(),
    ...downloadLegs,
    ...pull,
    ...record,
    ...setup,
    "      - name: Merge the phase (preflight, in-memory merges, verify, culprit search)",
    `        run: ${run('sync "$SLUG" --phase "$RUN_PHASE" --no-next --keep-worktrees')}`,
    "      - name: The verdict (the merged tree the plan's verify passed on)",
    `        run: ${run('ci verdict "$SLUG" --phase "$RUN_PHASE" --out "$RUNNER_TEMP/claude-parallel-verdict"')}`,
    `      - uses: ${uploadArtifact.uses} # ${uploadArtifact.tag}`,
    "        with:",
    `          name: ${verdictArtifactPrefix}\${{ needs.plan.outputs.phase }}`,
    "          path: ${{ runner.temp }}/claude-parallel-verdict/",
    "          if-no-files-found: error",
    "          overwrite: true",
    "",
    ...after("publish", "sync", 30),
    "    # contents: write: publishes the integration branch, the backups and the state (one atomic push",
    "    # with leases). Runs no project code: it merges again in memory and publishes only the tree the",
    "    # sync job's verify passed on.",
    "    permissions:",
    "      contents: write",
    ...identity,
    phaseEnv,
    "    steps:",
    ...helperSteps,
    ...project(),
    ...downloadLegs,
    `      - uses: ${downloadArtifact.uses} # ${downloadArtifact.tag}`,
    "        with:",
    `          name: ${verdictArtifactPrefix}\${{ needs.plan.outputs.phase }}`,
    "          path: ${{ runner.temp }}/claude-parallel-verdict",
    ...pull,
    ...record,
    "      - name: Merge again, check it is the verified tree, publish (atomic, with leases)",
    `        run: ${run('ci publish "$SLUG" --phase "$RUN_PHASE" --verdict "$RUNNER_TEMP/claude-parallel-verdict"')}`,
    "",
    ...after("next", "publish", 15),
    "    # actions: write: dispatches the next phase's run (and lists runs, so it is dispatched once).",
    ...(o.onLast === "pr" ? ["    # pull-requests: write: opens the pull request after the last phase."] : []),
    "    # contents: read: the checkout. Runs no project code.",
    "    permissions:",
    "      contents: read",
    "      actions: write",
    ...(o.onLast === "pr" ? ["      pull-requests: write"] : []),
    "    env:",
    phaseEnv,
    "    steps:",
    ...helperSteps,
    ...project(),
    ...pull,
    "      - name: Start the next phase's run (once)",
    "        if: needs.plan.outputs.last != 'true'",
    "        env:",
    "          GH_TOKEN: ${{ github.token }}",
    `          WORKFLOW: ${json(o.fileName)}`,
    `        run: ${run('ci dispatch "$SLUG" --after "$RUN_PHASE" --workflow "$WORKFLOW" --ref "$GITHUB_REF_NAME"')}`,
  ];
  if (o.onLast === "pr") {
    lines.push(
      "      - name: Open the pull request into base",
      "        if: needs.plan.outputs.last == 'true'",
      "        env:",
      "          # A pull request opened with GITHUB_TOKEN starts none of the repository's own checks: a",
      "          # token of yours in this secret (a fine-grained PAT or an app's) makes them run.",
      "          GH_TOKEN: ${{ secrets.CLAUDE_PARALLEL_PR_TOKEN || github.token }}",
      `        run: ${run('finish "$SLUG" --pr')}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The setup action ci init writes when there is none: the project's setup, shared by the jobs that run its code. */
export function setupActionYaml(setup: string | undefined): string {
  return [
    "# Your project's setup for claude-parallel's workflow: runtimes, dependencies, services. The task legs",
    "# run it before each session (the session and the task's verify use it), the sync job before the",
    "# plan's verify. claude-parallel ci init writes this file only when it is missing: it is yours.",
    "name: claude-parallel setup",
    "description: The project's setup before a task session or a verify",
    "runs:",
    "  using: composite",
    "  steps:",
    ...(setup === undefined
      ? [
          "    # For example:",
          "    # - uses: actions/setup-node@<full commit id> # v4",
          "    #   with: { node-version: 20 }",
          "    # - run: npm ci",
          "    #   shell: bash",
          "    - run: 'true'",
          "      shell: bash",
        ]
      : ["    - run: " + json(setup), "      shell: bash"]),
    "",
  ].join("\n");
}
