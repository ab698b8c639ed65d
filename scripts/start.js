#!/usr/bin/env node
// `npm start [-- --catalog DIR] [--port N]`: builds the app (out/, a few seconds), then runs it: the
// desktop app when the Electron binary is installed; otherwise (servers, CI, machines without
// Electron's download) the same UI in web mode from the same build, on the sample photos when the
// catalog is still empty.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/**
 * The Electron executable, found without require('electron'): that require downloads the binary
 * when it is missing, which must never happen behind the user's back (or offline).
 */
function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH && existsSync(process.env.ELECTRON_EXEC_PATH)) return process.env.ELECTRON_EXEC_PATH;
  const dir = join(root, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

/** Runs a child with our terminal; Ctrl-C reaches it directly, and we exit with its status. */
function run(command, commandArgs) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const build = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const electron = process.env.DINO_WEB === '1' ? null : electronBinary();
if (electron) {
  // package.json's main: out/main/index.js
  run(electron, ['.', ...args]);
} else {
  process.stdout.write('Electron binary not found: serving the app in web mode\n');
  process.stdout.write('Open the address below in your browser (Ctrl-C stops the server).\n');
  run(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'serve', '--samples-if-empty', ...args]);
}
