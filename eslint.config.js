// ESLint flat config: the recommended JS and TypeScript rules, plus a ban on Math.random
// (every run is a pure function of (config, seed); randomness comes from src/core/rng.ts).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // kernels/ is AssemblyScript (compiled by asc, not tsc): its decorators and types are not TypeScript's.
  { ignores: ["dist/**", "node_modules/**", "web/dist/**", "runs/**", "**/*.py", "kernels/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Use the seeded Rng from src/core/rng.ts." },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  { files: ["scripts/**/*.mjs"], languageOptions: { globals: { process: "readonly", console: "readonly" } } },
);
