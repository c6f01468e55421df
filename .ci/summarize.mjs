// Adds up Jest --json results and prints the one line CI reads: "N passed, N failed".
// Fails when a run is missing, when any test failed or was skipped, or when a run has no
// browser (e2e) tests: they must run in CI, not skip. With `--fuzz FILE`, npm run fuzz's finds
// count as failures too.
import fs from 'node:fs';

let passed = 0;
let failed = 0;
let problems = [];
const args = process.argv.slice(2);
// `--fuzz FILE`: npm run fuzz's --json report; each find is a failure, each target without one a pass.
const fuzzAt = args.indexOf('--fuzz');
const fuzzFile = fuzzAt >= 0 ? args.splice(fuzzAt, 2)[1] : undefined;
if (fuzzFile !== undefined) {
  if (!fs.existsSync(fuzzFile)) {
    problems.push(`${fuzzFile}: no fuzz report (npm run fuzz did not finish)`);
    failed += 1;
  } else {
    const f = JSON.parse(fs.readFileSync(fuzzFile, 'utf8'));
    for (const t of f.targets) {
      if (t.finds > 0) failed += t.finds;
      else passed += 1;
    }
    for (const find of f.finds) problems.push(`fuzz: ${find.target} found an input that breaks it (seed ${find.seed}), saved as ${find.file}`);
  }
}
for (const file of args) {
  if (!fs.existsSync(file)) {
    problems.push(`${file}: no results (the run did not reach Jest)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  if (r.numPendingTests + r.numTodoTests > 0) problems.push(`${file}: ${r.numPendingTests + r.numTodoTests} skipped tests`);
  const e2e = r.testResults.filter((s) => s.name.includes('/tests/e2e/'));
  if (e2e.length === 0 || e2e.some((s) => s.assertionResults.length === 0)) problems.push(`${file}: browser tests did not run`);
}
for (const p of problems) console.log(p);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);
