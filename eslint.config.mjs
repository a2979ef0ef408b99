// Lint rules that hold the architecture: services import only @sluice/common (never
// another service or a deep path into one), no floating promises, no `any`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const SERVICES = ["gateway", "actor", "sandbox", "reward", "learner", "cli", "operator"];

export default tseslint.config(
  { ignores: ["**/dist/**", "**/gen/**", "node_modules/**", ".venv/**", "services/engine/**", "runs/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["describe", "it", "test", "before", "after", "beforeEach", "afterEach", "suite"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/common/src/**", "@sluice/common/src/**", "@sluice/common/dist/**"],
              message: "import @sluice/common (or /internal), not its files",
            },
            ...SERVICES.map((s) => ({
              group: [`@sluice/${s}`, `@sluice/${s}/**`, `**/services/${s}/**`, `../../${s}/**`],
              message: `services never import another service (${s})`,
            })),
          ],
        },
      ],
    },
  },
  {
    // Cross-service tests and benchmarks compose services through their public entry points.
    files: ["test/src/**/*.ts", "bench/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/common/src/**", "@sluice/common/src/**", "@sluice/common/dist/**", "**/services/*/src/**"],
              message: "import a package's public entry (@sluice/<name> or /internal), not its files",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
