// zod/mini rather than zod: the same validator, but tree-shakable, which keeps the bundle that
// every `plan` call parses at about a twentieth of the size (see ARCHITECTURE.md, Dependencies).
import * as z from "zod/mini";
import { SLUG_MAX, SLUG_PATTERN, TASK_ID_MAX, TASK_ID_PATTERN, branchNameProblem } from "./names.js";
import { ownedPathProblem } from "./owns.js";
import {
  AGENT_PATTERN,
  DEFAULTS,
  ENFORCE_OWNS,
  LIMITS,
  MAX_PARALLEL_MAX,
  MERGE_STRATEGIES,
  REF_PATH,
  SANDBOX_MODES,
  fitsBytes,
  hasLineBreak,
  hasNul,
  isBlank,
  isMultiLine,
  mergeOptionProblem,
  notifyTextProblem,
  utf8Bytes,
} from "./rules.js";

// Descriptions are for the JSON Schema only: registered when it is made, not on every import
// (registering them took about a third of this module's load time, which every `plan` pays).
const descriptions: Array<[z.ZodMiniType, string]> = [];
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  descriptions.push([schema, description]);
  return schema;
}

export { LIMITS };

/**
 * zod's built-in checks carry only a message; a problem's fix rides along after this mark and
 * load.ts splits it off (splitFix). User text inside messages is JSON-quoted, so it holds no NUL.
 */
const FIX_MARK = "\u0000fix:";
const withFix = (message: string, fix: string) => `${message}${FIX_MARK}${fix}`;
export function splitFix(message: string): { message: string; fix?: string } {
  const at = message.indexOf(FIX_MARK);
  return at < 0 ? { message } : { message: message.slice(0, at), fix: message.slice(at + FIX_MARK.length) };
}

const bytes = utf8Bytes;
const kib = (n: number) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`);

const noNul = (what: string) => z.refine<string>((s: string) => !hasNul(s), { message: withFix(`${what} must not contain a NUL character`, "remove the NUL character (\\0)") });
const notBlank = (what: string) => z.refine<string>((s: string) => !isBlank(s), { message: withFix(`${what} must not be empty`, `write the ${what}`) });
const oneLine = (what: string) => z.refine<string>((s: string) => !isMultiLine(s), { message: withFix(`${what} is one line`, "join several commands with &&, or put them in a script and run that") });
const maxChars = (what: string, max: number, fix: string) => z.maxLength(max, { message: withFix(`${what} has at most ${max} characters`, fix) });
const maxBytes = (what: string, max: number, fix: string) =>
  z.superRefine((s: string, ctx) => {
    if (fitsBytes(s, max)) return;
    ctx.issues.push({ code: "custom", input: s, message: withFix(`the ${what} is ${bytes(s)} bytes of UTF-8; a ${what} is at most ${kib(max)}`, fix) });
  });

/** Text that may reach a command line or a file name: no NUL, which no argv can carry. */
const text = (what: string) => z.string().check(noNul(what));
const nonEmptyText = (what: string) => z.string().check(noNul(what), notBlank(what));
const command = (what: string) => z.string().check(noNul(what), notBlank(what), oneLine(what), maxBytes(what, LIMITS.verify, "put the commands in a script in the repository and run that script"));

const maxTurns = (where: string) =>
  z.optional(
    z
      .number()
      .check(
        z.int({ message: withFix("maxTurns is a whole number", "write a number of turns, like `200`") }),
        z.minimum(1, { message: withFix("maxTurns is at least 1", "write a number of turns, like `200`") }),
        z.maximum(LIMITS.maxTurns, { message: withFix(`maxTurns is at most ${LIMITS.maxTurns}`, `split ${where} into smaller tasks`) }),
      ),
  );
const budgetUsd = (key = "budgetUsd") =>
  z.optional(
    z
      .number()
      .check(
        z.positive({ message: withFix(`${key} is a positive number of dollars`, "write it like `5` or `2.5`") }),
        z.maximum(LIMITS.budgetUsd, { message: withFix(`${key} is at most ${LIMITS.budgetUsd}`, `write a smaller budget, or leave ${key} out`) }),
      ),
  );

const taskId = () =>
  z.string().check(
    z.maxLength(TASK_ID_MAX, { message: withFix(`a task id has at most ${TASK_ID_MAX} characters`, "use a shorter id, like `backend` or `qa-e2e`") }),
    z.regex(TASK_ID_PATTERN, {
      message: withFix("a task id is a lowercase letter followed by lowercase letters, digits and '-'", "rename it like `backend` or `qa-e2e` (and every dependsOn that names it)"),
    }),
  );

const branchName = (what: string) =>
  z.string().check(
    z.superRefine((name: string, ctx) => {
      const problem = branchNameProblem(name);
      if (problem) {
        ctx.issues.push({
          code: "custom",
          input: name,
          message: withFix(`${what} ${JSON.stringify(name)} is not a valid branch name: it ${problem}`, "use a name git accepts, like `main` or `feature/login`"),
        });
      } else if (REF_PATH.test(name)) {
        const short = name.replace(/^(refs\/)?(heads|tags|remotes)\//, "").replace(/^refs\//, "");
        ctx.issues.push({
          code: "custom",
          input: name,
          message: withFix(
            `${what} ${JSON.stringify(name)} starts with \`${name.split("/")[0]}/\`: it is a ref path, not a branch name, and git would read it as another ref`,
            `write the branch's short name, like \`${short || "main"}\``,
          ),
        });
      } else if (bytes(name) > LIMITS.branch) {
        ctx.issues.push({
          code: "custom",
          input: name,
          message: withFix(`${what} is ${bytes(name)} bytes long; a branch name here is at most ${LIMITS.branch} bytes`, "use a shorter branch name"),
        });
      }
    }),
  );

const ownedPaths = () =>
  z._default(
    z.array(
      z.string().check(
        z.superRefine((raw: string, ctx) => {
          const problem = ownedPathProblem(raw);
          if (problem) {
            ctx.issues.push({
              code: "custom",
              input: raw,
              message: withFix(`path ${JSON.stringify(raw)} ${problem}`, "write a path relative to the repository root, like `src/auth/` or `src/**/*.ts`"),
            });
          }
        }),
      ),
    ),
    [],
  );

export const MERGE_KEYS = ["strategy", "options"];

/** How a branch is merged: `git merge-tree`'s strategy and `-X` options (src/core/plan/rules.ts). */
const mergeSettings = () =>
  z.optional(
    z.strictObject({
      strategy: described(
        z._default(
          z.enum(MERGE_STRATEGIES, {
            message: withFix("a merge strategy is `ort` or `subtree`", "`git merge-tree` merges with ort only; `subtree` is ort shifting one side's tree (git's `-s subtree`)"),
          }),
          DEFAULTS.mergeStrategy,
        ),
        "`ort` (git's default) or `subtree` (ort shifting one side's tree to match the other, as `git merge -s subtree`). Default: ort.",
      ),
      options: described(
        z._default(
          z.array(
            z.string().check(
              z.superRefine((option: string, ctx) => {
                const problem = mergeOptionProblem(option);
                if (problem)
                  ctx.issues.push({
                    code: "custom",
                    input: option,
                    message: withFix(`merge option ${JSON.stringify(option)} ${problem}`, "write an option as `git merge -X` takes it, like `ignore-space-change`, `theirs` or `subtree=gitk-git`"),
                  });
              }),
            ),
          ),
          [],
        ),
        "ort's `-X` options, as `git merge -X` takes them: ours, theirs, ignore-space-change, ignore-all-space, ignore-space-at-eol, ignore-cr-at-eol, renormalize, no-renormalize, no-renames, find-renames[=N], diff-algorithm=ALGORITHM, subtree[=PATH]. They need git 2.43 or newer.",
      ),
    }),
  );

const NOTIFY_TARGET = "a notify target is `desktop`, an http(s) URL, or `command: <shell line>`";

/** Where `run` sends its notifications (src/notify/): the platform's notifier, a URL to POST to, or a shell line. */
const notifyTargets = () =>
  z.optional(
    z
      .array(
        z.union(
          [
            z.string().check(
              z.superRefine((target: string, ctx) => {
                const problem = notifyTextProblem(target);
                // The value is not quoted: a URL may carry a token.
                if (problem)
                  ctx.issues.push({
                    code: "custom",
                    input: target,
                    message: withFix(`the notify target ${problem}`, "write `desktop`, a URL like `https://ntfy.sh/<topic>`, or `command: <shell line>`"),
                  });
              }),
            ),
            z.strictObject({ command: command("notify command") }),
          ],
          { error: withFix(NOTIFY_TARGET, "write `- desktop`, `- https://ntfy.sh/<topic>`, or `- command: ./notify.sh`") },
        ),
      )
      .check(z.maxLength(LIMITS.notifyTargets, { message: withFix(`notify has at most ${LIMITS.notifyTargets} targets`, "send to fewer targets (one command can fan out to more)") })),
  );

/** A read-only reviewer of each phase's merged result before it is published (src/review/). */
const reviewSettings = () =>
  z.optional(
    z.strictObject({
      phases: described(
        z.optional(
          z
            .array(
              z
                .number()
                .check(
                  z.int({ message: withFix("a reviewed phase is a whole number", "write the phases' numbers as the plan prints them, like `[2, 3]`") }),
                  z.minimum(1, { message: withFix("a reviewed phase is at least 1", "write the phases' numbers as the plan prints them, like `[2, 3]`") }),
                ),
            )
            .check(z.maxLength(LIMITS.reviewPhases, { message: withFix(`review.phases names at most ${LIMITS.reviewPhases} phases`, "leave phases out to review every phase") })),
        ),
        "The phases reviewed, by their numbers in the plan's output. Default: every phase.",
      ),
      rounds: described(
        z._default(
          z
            .number()
            .check(
              z.int({ message: withFix("review.rounds is a whole number", "write a number of rounds from 0 to 10, like `2`") }),
              z.minimum(0, { message: withFix("review.rounds is at least 0", "write a number of rounds from 0 to 10, like `2`") }),
              z.maximum(LIMITS.reviewRounds, { message: withFix(`review.rounds is at most ${LIMITS.reviewRounds}`, "write a number of rounds from 0 to 10, like `2`") }),
            ),
          DEFAULTS.reviewRounds,
        ),
        "How many times the reviewer's findings go back to the sessions before you decide. Default: 2.",
      ),
      instructions: described(
        z.optional(text("review instructions").check(maxBytes("review instructions", LIMITS.reviewInstructions, "put long instructions in a file in the repository and point to it"))),
        `What the reviewer should look for besides the tasks' instructions and contracts. At most ${kib(LIMITS.reviewInstructions)}.`,
      ),
      budgetUsd: described(budgetUsd(), "The most dollars each review may spend (Claude Code's --max-budget-usd). Default: no limit."),
    }),
  );

const TaskSchema = described(
  z.strictObject({
    id: described(taskId(), "Unique task id: lowercase letters, digits and '-', at most 32. Names the branch and worktree."),
    agent: described(
      z.optional(
        z.string().check(
          z.maxLength(TASK_ID_MAX, { message: withFix(`an agent has at most ${TASK_ID_MAX} characters`, "use a short role name, like `designer`") }),
          z.regex(AGENT_PATTERN, {
            message: withFix("an agent is a role name: a letter followed by letters, digits, '-' or '_'", "use a role name like `designer` or `backend`"),
          }),
        ),
      ),
      "The role that does the task (designer, data, frontend, backend, qa, ...). Default: the id.",
    ),
    title: described(
      nonEmptyText("title").check(maxChars("title", LIMITS.title, "keep the title to one short line; put the details in `prompt`")),
      `One line: what the task delivers. At most ${LIMITS.title} characters.`,
    ),
    prompt: described(
      z.optional(text("prompt").check(maxBytes("prompt", LIMITS.prompt, "put long instructions in a file in the repository and have the prompt point to it"))),
      `The session's instructions. Default: the title. At most ${kib(LIMITS.prompt)}.`,
    ),
    dependsOn: described(z._default(z.array(taskId()), []), "Ids of tasks whose merged work this task needs."),
    owns: described(ownedPaths(), "Paths or globs this task may change, relative to the repository root. Owning a folder owns what is below it."),
    produces: described(ownedPaths(), "Contract files this task writes for others."),
    consumes: described(ownedPaths(), "Contract files this task reads; consuming what another task produces makes it depend on that task."),
    verify: described(z.optional(command("verify")), `Command that must pass in the task's worktree before its branch may merge. At most ${kib(LIMITS.verify)}.`),
    estimate: described(
      z._default(
        z
          .number()
          .check(
            z.positive({ message: withFix("an estimate is a positive number", "write the task's relative size, like `1` or `2.5`") }),
            z.maximum(LIMITS.estimate, { message: withFix(`an estimate is at most ${LIMITS.estimate}`, "estimates are relative: scale them all down") }),
          ),
        DEFAULTS.estimate,
      ),
      `Relative size of the task (positive number, at most ${LIMITS.estimate}). Default: 1.`,
    ),
    merge: described(mergeSettings(), "How the task's branch is merged into the integration branch (sync, status's prediction, rolling merges). Default: the plan's `merge`."),
    maxTurns: described(maxTurns("the task"), "On GitHub Actions (ci init): the most turns this task's session may take (claude-code-action's --max-turns). Default: the plan's maxTurns."),
    budgetUsd: described(
      budgetUsd(),
      "The most dollars this task's sessions may spend: `run` pauses the task there and asks (`claude-parallel approve`); on GitHub Actions (ci init), Claude Code's --max-budget-usd. Default: the plan's budgetUsd.",
    ),
  }),
  "One agent task: one session, one worktree, one branch.",
);

const PlanSchema = described(
  z.strictObject({
    version: described(z.literal(1), "Plan format version: 1."),
    feature: described(
      nonEmptyText("feature").check(maxChars("feature", LIMITS.feature, "keep the feature's title short; details belong in the tasks' prompts")),
      `Title of the feature. At most ${LIMITS.feature} characters.`,
    ),
    slug: described(
      z.optional(
        z
          .string()
          .check(
            z.maxLength(SLUG_MAX, { message: withFix(`a slug has at most ${SLUG_MAX} characters`, "use a shorter slug, or remove it to derive one from the feature") }),
            z.regex(SLUG_PATTERN, { message: withFix("a slug is lowercase letters and digits separated by single '-'", "write it like `user-auth`, or remove it to derive one from the feature") }),
          ),
      ),
      "Short name of the feature. Default: the plan's folder name in .parallel/<slug>/plan.yaml, else derived from feature.",
    ),
    base: described(z.optional(branchName("base")), "Branch the feature starts from and merges back into. Default: the current branch."),
    integrationBranch: described(z.optional(branchName("integrationBranch")), "Branch that collects the merged phases. Default: feature/<slug>."),
    worktreeRoot: described(
      z._default(
        nonEmptyText("worktreeRoot").check(
          z.refine<string>((s: string) => !hasLineBreak(s), { message: withFix("worktreeRoot must not contain a line break", "write the folder's path on one line") }),
          maxChars("worktreeRoot", LIMITS.worktreeRoot, "use a shorter path"),
        ),
        DEFAULTS.worktreeRoot,
      ),
      "Folder that holds the task worktrees, relative to the repository root; `~` and `~/...` are in your home folder. It must lie outside the repository and its git directory. Default: '..'.",
    ),
    maxParallel: described(
      z._default(
        z
          .number()
          .check(
            z.int({ message: withFix("maxParallel is a whole number", "write a whole number of sessions from 1 to 64, like `4`") }),
            z.minimum(1, { message: withFix("maxParallel is at least 1", "write a whole number of sessions from 1 to 64, like `4`") }),
            z.maximum(MAX_PARALLEL_MAX, { message: withFix(`maxParallel is at most ${MAX_PARALLEL_MAX}`, "write a whole number of sessions from 1 to 64, like `4`") }),
          ),
        DEFAULTS.maxParallel,
      ),
      "At most this many sessions run at once. Default: 4.",
    ),
    verify: described(z.optional(command("verify")), "Command run on the merged result at every sync point."),
    enforceOwns: described(
      z._default(z.enum(ENFORCE_OWNS), DEFAULTS.enforceOwns),
      "What a task session's hook answers when it is about to edit a file outside the task's owns and produces: `deny` (refuse, naming the owner), `ask` (ask the user), or `off`. Default: deny.",
    ),
    sandbox: described(
      z.optional(z.enum(SANDBOX_MODES)),
      "Whether the task sessions claude-parallel launches run their Bash commands in Claude Code's sandbox, which lets them write only inside their own worktree: `auto` (where it is available: Linux with bubblewrap and socat), `on` (refuse to launch without it), or `off`. Default: auto.",
    ),
    merge: described(mergeSettings(), "How every task's branch is merged (unless the task has its own `merge`), and how finish merges the integration branch into base. Default: ort, no options."),
    maxTurns: described(maxTurns("the feature"), "On GitHub Actions (ci init): the most turns each task's session may take (claude-code-action's --max-turns). Default: 200."),
    budgetUsd: described(
      budgetUsd(),
      "The most dollars each task's sessions may spend: `run` pauses a task there and asks (`claude-parallel approve`); on GitHub Actions (ci init), Claude Code's --max-budget-usd. Default: no limit.",
    ),
    featureBudgetUsd: described(
      budgetUsd("featureBudgetUsd"),
      "The most dollars all the feature's sessions together may spend: `run` pauses every task that needs a session there and asks (`claude-parallel approve`). Default: no limit.",
    ),
    notify: described(
      notifyTargets(),
      `Where \`run\` sends a notification when the feature needs you or moves on (docs/notifications.md): \`desktop\` (the platform's notifier, else the terminal), an http(s) URL (a POST of one JSON object per event), or \`command: <shell line>\` (run by \`sh -c\` with the JSON on its stdin). At most ${LIMITS.notifyTargets}. Default: none.`,
    ),
    review: described(
      reviewSettings(),
      "A read-only review of each phase's merged result after it passes verify and before it is published: findings go to the sessions of the tasks that changed or own the files, and the phase is merged again after their fixes (docs/review.md). Default: no review.",
    ),
    tasks: described(z.array(TaskSchema).check(z.minLength(1, { message: withFix("a plan needs at least one task", "add a task: `- id: ...` with its `title: ...`") })), "The agent tasks."),
  }),
  "A claude-parallel plan: one feature split into agent tasks.",
);

export type PlanInput = z.input<typeof PlanSchema>;
export type Plan = z.output<typeof PlanSchema>;

export const PLAN_KEYS = Object.keys(PlanSchema.def.shape);
export const TASK_KEYS = Object.keys(TaskSchema.def.shape);

export function validatePlan(data: unknown) {
  return z.safeParse(PlanSchema, data);
}

export function planJsonSchema(): Record<string, unknown> {
  for (const [schema, description] of descriptions.splice(0)) schema.register(z.globalRegistry, { description });
  return {
    title: "claude-parallel plan",
    ...z.toJSONSchema(PlanSchema, { io: "input" }),
  };
}
