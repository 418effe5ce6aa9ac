/** Exit codes of the helper. Each failure class has its own code so scripts can tell them apart. */
export const ExitCode = {
  ok: 0,
  /** A bug in the helper: the message says so and asks for a report. */
  internal: 1,
  /** The plan or the command line is wrong: the message names the place and the fix. */
  invalidInput: 2,
  /** The machine is not fit: git or Node missing or too old, not a repository. */
  environment: 3,
  /** The repository's state stands in the way (a path or branch exists, a phase is not synced...): nothing was changed. */
  refused: 4,
  /** The merged result of a phase fails its verify command: nothing was published. */
  verifyFailed: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One thing wrong with the input, located as precisely as we can. */
export interface Problem {
  /** `plan.yaml:12:7`, `tasks[2].dependsOn[0]`, or `--phase`: where the user should look. */
  where: string;
  message: string;
  /** What to change. Omitted only when the message already says it. */
  fix?: string;
}

export class InputError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[] | Problem) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join("\n"));
    this.name = "InputError";
    this.problems = list;
  }
}

export class EnvironmentError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}\n  fix: ${fix}`);
    this.name = "EnvironmentError";
  }
}

export function formatProblem(p: Problem): string {
  const head = p.where ? `${p.where}: ${p.message}` : p.message;
  return p.fix ? `${head}\n  fix: ${p.fix}` : head;
}

/** Something in the repository stands in the way; names each obstacle and its fix. Nothing was changed. */
export class RefusedError extends Error {
  constructor(readonly refusals: Array<{ task?: string; message: string; fix: string }>) {
    super(refusals.map((r) => `${r.task ? `task ${r.task}: ` : ""}${r.message}\n  fix: ${r.fix}`).join("\n"));
    this.name = "RefusedError";
  }
}
