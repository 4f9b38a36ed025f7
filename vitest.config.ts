import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Generous on purpose: the property tests take ~5 s on a quiet 2-core machine but several times
    // that when the machine is busy, and a timeout is not an assertion. A hang still fails.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
