import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/helpers/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A safety net, not a measure: each test bounds its own work; a busy 2-core machine can be slow.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    globalSetup: ["test/helpers/global-setup.ts"],
    // Each file in its own process (vitest's default pool, named: the attack tests kill process
    // groups and run commands in process). Most of a test's time is spent waiting on the git and
    // helper processes it starts, not on the CPU of the worker: vitest's default of one worker
    // fewer than the cores ran the whole suite one file at a time on a 2-core machine.
    pool: "forks",
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: SlowFirstSequencer },
  },
});
