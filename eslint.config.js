/* ESLint for the site's own JavaScript and its tests (make test runs it, through
 * tests/test_js.py). */
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["docs/assets/vendor/**", "site/**", "docs/gallery/**", "node_modules/**", ".venv/**", ".cache/**",
              "scripts/bench_pages_stock.js"] },
  js.configs.recommended,
  {
    files: ["docs/assets/javascripts/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
    rules: {
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "no-var": "off",
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      "no-restricted-globals": ["error", { name: "event", message: "use the handler's argument" }],
    },
  },
  {
    /* the decoder each download's bertviz view carries (build/download.py): a classic script */
    files: ["attention_gallery/build/download_params.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "script", globals: { ...globals.browser } },
    rules: { "no-unused-vars": ["error", { varsIgnorePattern: "^__gvParams$" }] },
  },
  {
    files: ["docs/assets/javascripts/raster-worker.js"],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    /* the live page's inference worker: a classic worker (importScripts onnxruntime-web) */
    files: ["docs/assets/javascripts/live-worker.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.worker, ort: "readonly" } },
    rules: { "no-implicit-globals": "off" },
  },
  {
    /* the bundler (scripts/bundle_js.mjs, run by the gallery's build) */
    files: ["scripts/**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
    rules: { eqeqeq: ["error", "always"] },
  },
  {
    files: ["tests/js/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
    rules: { "no-unused-vars": ["error", { args: "none" }], eqeqeq: ["error", "always"] },
  },
];
