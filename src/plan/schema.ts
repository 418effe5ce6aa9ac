// zod/mini rather than zod: the same validator, but tree-shakable, which keeps the bundle that
// every `plan` call parses at about a twentieth of the size (see README, design notes).
import * as z from "zod/mini";
import { SLUG_MAX, SLUG_PATTERN, TASK_ID_MAX, TASK_ID_PATTERN, branchNameProblem } from "./names.js";
import { ownedPathProblem } from "./owns.js";

function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  (schema as z.ZodMiniType).register(z.globalRegistry, { description });
  return schema;
}

const noNul = (what: string) => z.refine<string>((s: string) => !s.includes("\0"), { message: `${what} must not contain a NUL character` });
const notBlank = (what: string) => z.refine<string>((s: string) => s.trim() !== "", { message: `${what} must not be empty` });
const oneLine = (what: string) =>
  z.refine<string>((s: string) => !/[\r\n]/.test(s.trim()), { message: `${what} is one line; join several commands with &&` });

/** Text that may reach a command line or a file name: no NUL, which no argv can carry. */
const text = (what: string) => z.string().check(noNul(what));
const nonEmptyText = (what: string) => z.string().check(noNul(what), notBlank(what));
const command = (what: string) => z.string().check(noNul(what), notBlank(what), oneLine(what));

const taskId = () =>
  z.string().check(
    z.maxLength(TASK_ID_MAX, { message: `a task id has at most ${TASK_ID_MAX} characters` }),
    z.regex(TASK_ID_PATTERN, {
      message: "a task id is a lowercase letter followed by lowercase letters, digits and '-' (like `backend` or `qa-e2e`)",
    }),
  );

const branchName = (what: string) =>
  z.string().check(
    z.superRefine((name: string, ctx) => {
      const problem = branchNameProblem(name);
      if (problem) ctx.issues.push({ code: "custom", input: name, message: `${what} ${JSON.stringify(name)} is not a valid branch name: it ${problem}` });
    }),
  );

const ownedPaths = () =>
  z._default(
    z.array(
      z.string().check(
        z.superRefine((raw: string, ctx) => {
          const problem = ownedPathProblem(raw);
          if (problem) ctx.issues.push({ code: "custom", input: raw, message: `path ${JSON.stringify(raw)} ${problem}` });
        }),
      ),
    ),
    [],
  );

export const TaskSchema = described(
  z.strictObject({
    id: described(taskId(), "Unique task id: lowercase letters, digits and '-', at most 32. Names the branch and worktree."),
    agent: described(
      z.optional(
        z.string().check(
          z.maxLength(TASK_ID_MAX),
          z.regex(/^[A-Za-z][A-Za-z0-9_-]*$/, {
            message: "an agent is a role name: a letter followed by letters, digits, '-' or '_' (like `designer`)",
          }),
        ),
      ),
      "The role that does the task (designer, data, frontend, backend, qa, ...). Default: the id.",
    ),
    title: described(nonEmptyText("title"), "One line: what the task delivers."),
    prompt: described(z.optional(text("prompt")), "The session's instructions. Default: the title."),
    dependsOn: described(z._default(z.array(taskId()), []), "Ids of tasks whose merged work this task needs."),
    owns: described(ownedPaths(), "Paths or globs this task may change, relative to the repository root. Owning a folder owns what is below it."),
    produces: described(ownedPaths(), "Contract files this task writes for others."),
    consumes: described(ownedPaths(), "Contract files this task reads; consuming what another task produces makes it depend on that task."),
    verify: described(z.optional(command("verify")), "Command that must pass in the task's worktree before its branch may merge."),
    estimate: described(
      z._default(z.number().check(z.positive({ message: "an estimate is a positive number" }), z.refine(Number.isFinite, { message: "an estimate is a finite number" })), 1),
      "Relative size of the task (positive number). Default: 1.",
    ),
  }),
  "One agent task: one session, one worktree, one branch.",
);

export const PlanSchema = described(
  z.strictObject({
    version: described(z.literal(1), "Plan format version: 1."),
    feature: described(nonEmptyText("feature"), "Title of the feature."),
    slug: described(
      z.optional(
        z.string().check(
          z.maxLength(SLUG_MAX, { message: `a slug has at most ${SLUG_MAX} characters` }),
          z.regex(SLUG_PATTERN, { message: "a slug is lowercase letters and digits separated by single '-'" }),
        ),
      ),
      "Short name of the feature. Default: the plan's folder name in .parallel/<slug>/plan.yaml, else derived from feature.",
    ),
    base: described(z.optional(branchName("base")), "Branch the feature starts from and merges back into. Default: the current branch."),
    integrationBranch: described(z.optional(branchName("integrationBranch")), "Branch that collects the merged phases. Default: feature/<slug>."),
    worktreeRoot: described(
      z._default(nonEmptyText("worktreeRoot").check(z.refine<string>((s: string) => !/[\r\n]/.test(s), { message: "worktreeRoot must not contain a line break" })), ".."),
      "Folder that holds the task worktrees, relative to the repository root. Default: '..'.",
    ),
    maxParallel: described(
      z._default(z.number().check(z.int(), z.minimum(1, { message: "maxParallel is at least 1" }), z.maximum(64, { message: "maxParallel is at most 64" })), 4),
      "At most this many sessions run at once. Default: 4.",
    ),
    verify: described(z.optional(command("verify")), "Command run on the merged result at every sync point."),
    tasks: described(z.array(TaskSchema).check(z.minLength(1, { message: "a plan needs at least one task" })), "The agent tasks."),
  }),
  "A claude-parallel plan: one feature split into agent tasks.",
);

export type PlanInput = z.input<typeof PlanSchema>;
export type Plan = z.output<typeof PlanSchema>;
export type Task = z.output<typeof TaskSchema>;

export const PLAN_KEYS = Object.keys(PlanSchema.def.shape);
export const TASK_KEYS = Object.keys(TaskSchema.def.shape);

export function validatePlan(data: unknown) {
  return z.safeParse(PlanSchema, data);
}

export function planJsonSchema(): Record<string, unknown> {
  return {
    title: "claude-parallel plan",
    ...z.toJSONSchema(PlanSchema, { io: "input" }),
  };
}
