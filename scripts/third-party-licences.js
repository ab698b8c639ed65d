#!/usr/bin/env node
// Writes out/THIRD-PARTY-LICENCES.txt: every package the installers ship (the production
// dependencies installed here, followed through their own dependencies) with its licence text.
// scripts/dist.js runs it before electron-builder, which puts the file beside app.asar.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NOTICES = join(root, 'out', 'THIRD-PARTY-LICENCES.txt');

/** The folder of an installed package as Node resolves it from `from`, or null when absent (an optional one). */
function packageDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** Packages electron-builder.yml leaves out of the installers (`- "!node_modules/NAME/**"` under files). */
export function leftOutPackages() {
  const config = readFileSync(join(root, 'electron-builder.yml'), 'utf8');
  return new Set([...config.matchAll(/^\s*-\s*"!node_modules\/(.+?)\/\*\*"\s*$/gm)].map((m) => m[1]));
}

/** Every installed package reachable from the app's dependencies, by name: { dir, pkg } (its package.json). */
export function shippedPackages() {
  const found = new Map();
  const leftOut = leftOutPackages();
  const visit = (dir) => {
    if (found.has(dir)) return;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    found.set(dir, pkg);
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const d = packageDir(dep, dir);
      if (d) visit(d);
    }
  };
  const app = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const dep of Object.keys(app.dependencies ?? {})) {
    const d = packageDir(dep, root);
    if (!d) throw new Error(`${dep} is a dependency but is not installed: run npm ci`);
    visit(d);
  }
  // a package left out still brings its dependencies: electron-builder ships the whole production tree
  return [...found].filter(([, pkg]) => !leftOut.has(pkg.name)).map(([dir, pkg]) => ({ dir, pkg })).sort((a, b) => a.pkg.name.localeCompare(b.pkg.name) || a.dir.localeCompare(b.dir));
}

function licenceText(dir) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying|notice)(\.|-|$)/i.test(f));
  return file ? readFileSync(join(dir, file), 'utf8').trim() : null;
}

export function writeNotices() {
  const sections = [];
  for (const { dir, pkg } of shippedPackages()) {
    const licence = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'see the package');
    const text = licenceText(dir);
    sections.push(`${pkg.name} ${pkg.version} (${licence})\n${'-'.repeat(60)}\n${text ?? `No licence file in the package; its package.json names ${licence}.`}\n`);
  }
  const head = 'Dino Explorer ships these open-source packages; each keeps its own licence, given below.\n'
    + "Electron's and Chromium's licences are in LICENSE.electron.txt and LICENSES.chromium.html, which electron-builder adds.\n\n";
  mkdirSync(dirname(NOTICES), { recursive: true });
  writeFileSync(NOTICES, head + sections.join('\n'));
  return { file: NOTICES, packages: sections.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = writeNotices();
  process.stdout.write(`${r.packages} packages: ${r.file}\n`);
}
