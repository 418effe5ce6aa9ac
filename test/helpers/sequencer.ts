import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The slowest files, slowest first (vitest's per-file durations of a whole run on a 2-core
 * machine; see docs/benchmarks.md, "The test suite"). vitest orders files by the durations of its
 * last run, and with no such cache (a fresh clone, as in CI) by file size, which puts short files
 * that run many slow cases (kill-*-N, prediction-N) or one long scenario (ci-simulation) last: the
 * run would end with one worker busy on them while the other idles. Started first, they overlap
 * with the many short files; the two longest (e2e/run, ci-simulation: each about a seventh of the
 * whole) go first of all. Order only: no test depends on it.
 */
const SLOW_FIRST = [
  "test/e2e/run.test.ts",
  "test/integration/ci-simulation.test.ts",
  "test/attack/kill-run-",
  "test/attack/kill-sync-",
  "test/attack/concurrency.test.ts",
  "test/attack/kill-start-",
  "test/e2e/commands.test.ts",
  "test/e2e/permissions.test.ts",
  "test/attack/kill-leftovers.test.ts",
  "test/attack/moved-refs.test.ts",
  "test/attack/kill-clean-",
  "test/e2e/workflow.test.ts",
  "test/integration/sync.test.ts",
  "test/attack/shapes.test.ts",
  "test/attack/kill-finish-",
  "test/integration/prediction-",
  "test/attack/state-files-hostile.test.ts",
  "test/integration/hooks.test.ts",
  "test/integration/share.test.ts",
  "test/integration/merge-task.test.ts",
  "test/integration/sync-crash.test.ts",
  "test/integration/finish.test.ts",
  "test/integration/finish-pr.test.ts",
  "test/integration/cli.test.ts",
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
