import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/helpers/sequencer.js";

export default defineConfig({
  test: {
    // A safety net, not a measure: each test bounds its own work; a busy 2-core machine can be slow.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // Most of a test's time is spent waiting on the git and helper processes it starts, not on the
    // CPU of the worker: vitest's default of one worker fewer than the cores ran the whole suite
    // one file at a time on a 2-core machine.
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        // Pure functions and files read in place: no build, no installed tools, no process of the
        // plugin (`npm run test:unit`). They share no state (no mocks, no environment changes), so
        // one worker thread runs many files without a fresh module graph per file.
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], pool: "threads", isolate: false },
      },
      {
        // Each file in its own process (the attack tests kill process groups and run commands in
        // process), against the plugin the global setup builds from src/ once per run.
        extends: true,
        test: {
          name: "processes",
          include: ["test/{integration,attack,e2e}/**/*.test.ts"],
          pool: "forks",
          globalSetup: ["test/helpers/global-setup.ts"],
        },
      },
    ],
  },
});
