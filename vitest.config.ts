import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A safety net, not a measure: each test bounds its own work; a busy 2-core machine can be slow.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
