// eslint over the front end's sources (npm run lint, part of `make lint`): the recommended
// rules, with the browser's globals for the page scripts and Node's for the build script.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static/dist/", "node_modules/", "bench/"] },
  js.configs.recommended,
  {
    files: ["static/src/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
    rules: {
      // A leading underscore names what is there only to be skipped (a loop that counts, an
      // argument before the one a callback needs).
      "no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["static/src/build.mjs", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
