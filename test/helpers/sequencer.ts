import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The slowest files, slowest first (measured on a 2-core machine; see the README's "Expect the
 * whole suite" paragraph). vitest orders files by the durations of its last run, and with no
 * such cache (a fresh clone) by file size, which puts these short files that each run many slow
 * cases last: the run would end with one worker busy on them while the other idles. Started
 * first, they overlap with the many short files. Order only: no test depends on it.
 */
const SLOW_FIRST = [
  "test/attack/concurrency.test.ts",
  "test/attack/kill-sync-",
  "test/attack/kill-run-",
  "test/attack/kill-clean-",
  "test/attack/kill-finish-",
  "test/attack/kill-leftovers.test.ts",
  "test/integration/prediction-",
  "test/attack/shapes.test.ts",
  "test/attack/kill-start-",
  "test/e2e/permissions.test.ts",
  "test/integration/sync.test.ts",
  "test/integration/sync-crash.test.ts",
  "test/integration/finish.test.ts",
  "test/e2e/commands.test.ts",
  "test/integration/finish-pr.test.ts",
  "test/integration/cli.test.ts",
  "test/e2e/workflow.test.ts",
];

const rank = (spec: TestSpecification) => {
  const path = spec.moduleId.replace(/\\/g, "/");
  const i = SLOW_FIRST.findIndex((prefix) => path.includes(`/${prefix}`));
  return i === -1 ? SLOW_FIRST.length : i;
};

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Stable: within a rank, vitest's own order (last run's durations, else size).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
