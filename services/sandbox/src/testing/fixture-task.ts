import type { SweTask } from "@sluice/common";

// A real task on a real published package, for tests: minimist 1.2.8 with a synthesized bug
// (hex strings stop being numbers). Its test_patch is empty; the failing test file is hidden.
const BUG =
  "diff --git a/index.js b/index.js\nindex f020f39..2086097 100644\n--- a/index.js\n+++ b/index.js\n@@ -12,7 +12,7 @@ function hasKey(obj, keys) {\n \n function isNumber(x) {\n \tif (typeof x === 'number') { return true; }\n-\tif ((/^0x[0-9a-f]+$/i).test(x)) { return true; }\n+\tif ((/^0x[0-9a-f]+$/i).test(x)) { return false; }\n \treturn (/^[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(e[-+]?\\d+)?$/).test(x);\n }\n \n";

const FIX =
  "diff --git a/index.js b/index.js\nindex 2086097..f020f39 100644\n--- a/index.js\n+++ b/index.js\n@@ -12,7 +12,7 @@ function hasKey(obj, keys) {\n \n function isNumber(x) {\n \tif (typeof x === 'number') { return true; }\n-\tif ((/^0x[0-9a-f]+$/i).test(x)) { return false; }\n+\tif ((/^0x[0-9a-f]+$/i).test(x)) { return true; }\n \treturn (/^[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(e[-+]?\\d+)?$/).test(x);\n }\n \n";

export const MINIMIST_INTEGRITY =
  "sha512-2yyAR8qBkN3YuheJanUpWC5U3bb5osDywNB8RzDVlDwDHbocAJveqqj1u8+SVD7jkWT4yvsHCpWqqWqAxb0zCA==";

/** A fresh copy each call, so tests can change fields freely. */
export function minimistBugTask(): SweTask {
  return {
    instance_id: "minimist__1.2.8.test-hex",
    repo: "npm:minimist",
    base_commit: "",
    patch: FIX,
    test_patch: "",
    problem_statement: "Hexadecimal arguments such as --x 0x10 are no longer parsed as numbers.",
    hints_text: "",
    created_at: "2026-11-25T00:00:00Z",
    version: "1.2.8",
    FAIL_TO_PASS: ["test/num.js::nums"],
    PASS_TO_PASS: [
      "test/parse.js::parse args",
      "test/parse.js::comprehensive",
      "test/parse.js::flag boolean",
      "test/parse.js::flag boolean value",
      "test/parse.js::newlines in params",
      "test/parse.js::strings",
      "test/parse.js::stringArgs",
      "test/parse.js::empty strings",
      "test/parse.js::string and alias",
      "test/parse.js::slashBreak",
      "test/parse.js::alias",
      "test/parse.js::multiAlias",
      "test/parse.js::nested dotted objects",
      "test/short.js::numeric short args",
      "test/short.js::short",
      "test/short.js::mixed short bool and capture",
      "test/short.js::short and long",
      "test/num.js::already a number",
    ],
    environment_setup_commit: "",
    env: {
      kind: "npm",
      package: "minimist",
      version: "1.2.8",
      integrity: MINIMIST_INTEGRITY,
      dependencies: { tape: "5.10.2" },
      install_steps: [],
      setup_patch: BUG,
      test_command: ["tape"],
      test_files: ["test/num.js", "test/parse.js", "test/short.js"],
      result_parser: "tap",
      timeouts: { install_ms: 300_000, test_ms: 60_000 },
      hidden_paths: ["test/num.js"],
    },
    extra: {},
  };
}
