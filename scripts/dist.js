#!/usr/bin/env node
// `npm run dist [-- electron-builder options]`: the installers for this platform (electron-builder.yml):
// builds out/, writes the third-party licences, then runs electron-builder, which downloads Electron
// (once, into its cache), rebuilds the native modules for Electron's ABI and packs the installers
// into dist/. `npm run dist -- --dir` stops at the unpacked app (dist/<platform>-unpacked).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedPackages, writeNotices } from './third-party-licences.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function step(what, args) {
  process.stdout.write(`\n=== dist: ${what}\n`);
  return spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
}

/** every native binary of the shipped packages (*.node), as a path relative to the root */
function nativeBinaries() {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(p);
      else if (e.isFile() && e.name.endsWith('.node')) out.push(relative(root, p));
    }
  };
  for (const { dir } of shippedPackages()) walk(dir);
  return out;
}

if (step('build (out/)', [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build']) !== 0) process.exit(1);
const notices = writeNotices();
process.stdout.write(`\n=== dist: ${notices.packages} third-party licences in ${notices.file}\n`);

// electron-builder rebuilds the native modules for Electron in node_modules itself; Node's builds are
// put back afterwards, so the CLI and the tests keep working in this checkout.
const saved = mkdtempSync(join(tmpdir(), 'dino-dist-native-'));
const binaries = nativeBinaries();
for (const f of binaries) {
  mkdirSync(dirname(join(saved, f)), { recursive: true });
  copyFileSync(join(root, f), join(saved, f));
}
/**
 * Puts a saved build back where electron-builder changed it. Written beside and renamed over, never
 * copied onto: a process that has the addon loaded (a test runner, the CLI) maps the old file, and
 * rewriting those pages in place crashes it.
 */
function restore(from, to) {
  if (readFileSync(from).equals(readFileSync(to))) return;
  copyFileSync(from, `${to}.restoring`);
  renameSync(`${to}.restoring`, to);
}

let status;
try {
  status = step('electron-builder', [join(root, 'node_modules', 'electron-builder', 'cli.js'), '--config', 'electron-builder.yml', '--publish', 'never', ...process.argv.slice(2)]);
} finally {
  for (const f of binaries) restore(join(saved, f), join(root, f));
  rmSync(saved, { recursive: true, force: true });
}
process.exit(status);
