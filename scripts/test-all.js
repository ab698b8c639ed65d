#!/usr/bin/env node
// Every check CI runs, in order: types, lint, build, unit + integration tests, the learning test, e2e.
// Ends with one plain "N passed, N failed" line counting every test case.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const reports = join('test-results', 'reports');
mkdirSync(reports, { recursive: true });
const only = process.argv.slice(2);
const steps = [];

function run(name, cmd, args, env = {}) {
  if (only.length && !only.includes(name)) return true;
  const t0 = Date.now();
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  steps.push({ name, ok, seconds: (Date.now() - t0) / 1000 });
  return ok;
}

let passed = 0;
let failed = 0;
let skipped = 0;

run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.node.json', '--noEmit']);
// the GPU window's page and everything it imports, with the DOM's types and without Node's
run('typecheck-gpu', 'npx', ['tsc', '-p', 'tsconfig.gpu.json', '--noEmit']);
run('svelte-check', 'npx', ['svelte-check', '--tsconfig', 'tsconfig.web.json', '--threshold', 'warning', '--fail-on-warnings']);
run('lint', 'npx', ['eslint', '.', '--max-warnings', '0']);
const built = run('build', 'npx', ['electron-vite', 'build']);

function vitest(name, extraArgs) {
  const json = join(reports, `vitest-${name}.json`);
  run(name, 'npx', ['vitest', 'run', ...extraArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`]);
  if (!existsSync(json)) return;
  const r = JSON.parse(readFileSync(json, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}

vitest('unit', []);
// issue 3's learning claim: ~8 min of training on caltech10, alone on the machine (`npm test -- learn`
// runs only this stage)
vitest('learn', ['--config', 'vitest.learn.config.ts']);

const e2eJson = join(reports, 'playwright.json');
if (built) {
  run('e2e', 'npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: e2eJson });
  if (existsSync(e2eJson)) {
    const s = JSON.parse(readFileSync(e2eJson, 'utf8')).stats ?? {};
    passed += (s.expected ?? 0) + (s.flaky ?? 0);
    failed += s.unexpected ?? 0;
    skipped += s.skipped ?? 0;
  }
}

process.stdout.write('\n=== summary\n');
for (const s of steps) process.stdout.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${s.seconds.toFixed(0)} s)\n`);
const stepFailures = steps.filter((s) => !s.ok).length;
// A failed step without failed test cases (types, lint, build) still counts as a failure.
const extra = stepFailures > 0 && failed === 0 ? stepFailures : 0;
process.stdout.write(`${passed} passed, ${failed + extra} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(stepFailures > 0 || failed > 0 ? 1 : 0);
