import * as asar from '@electron/asar';
import { expect, test } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { leftOutPackages } from '../scripts/third-party-licences.js';
import { WORKER_ENTRIES } from '../src-main/services/threads/worker-entries';
import { SAMPLES, TINY_VIT } from './cli';
import { repoRoot } from './electron';

// The installers' layout, checked on what electron-builder itself lays out (`npm run dist -- --dir`,
// electron-builder.yml). Electron's binary cannot be downloaded here, so a placeholder stands in for
// it (electronDist) and the rebuild for Electron's ABI (which downloads Electron's headers) is off;
// everything else is electron-builder's own packing: app.asar, app.asar.unpacked, extra resources.

/** native code that must be a real file: Node addons and the shared libraries they load */
const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;

interface Layout {
  work: string;
  resources: string;
  /** every path in app.asar ('/out/main/index.js'), and whether electron-builder marked it unpacked */
  entries: Map<string, 'pack' | 'unpack'>;
  /** app.asar extracted with its unpacked files: the packaged app as plain files, for node to run */
  extracted: string;
}

let layout: Layout;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  const work = mkdtempSync(join(tmpdir(), 'dino-package-'));
  const electronDist = join(work, 'electron-placeholder');
  mkdirSync(join(electronDist, 'resources'), { recursive: true });
  writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\necho "placeholder for the Electron binary"\n');
  chmodSync(join(electronDist, 'electron'), 0o755);
  const output = join(work, 'dist');
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'dist.js'), '--dir', '--linux', `-c.electronDist=${electronDist}`, '-c.npmRebuild=false', `-c.directories.output=${output}`],
    { cwd: repoRoot, encoding: 'utf8', timeout: 200_000 },
  );
  if (r.status !== 0) throw new Error(`npm run dist -- --dir failed (${r.status})\n${r.stdout}\n${r.stderr}`);
  const resources = join(output, 'linux-unpacked', 'resources');
  const archive = join(resources, 'app.asar');
  const entries = new Map<string, 'pack' | 'unpack'>();
  for (const line of asar.listPackage(archive, { isPack: true })) {
    const m = /^(pack|unpack)\s*:\s*(.+)$/.exec(line);
    if (m) entries.set(m[2]!, m[1] as 'pack' | 'unpack');
  }
  const extracted = join(work, 'extracted');
  asar.extractAll(archive, extracted);
  layout = { work, resources, entries, extracted };
});

test.afterAll(() => {
  if (layout) rmSync(layout.work, { recursive: true, force: true });
});

test('the package holds the build, every worker, and no TypeScript sources or dev tools', () => {
  const files = [...layout.entries.keys()];
  const main = (JSON.parse(asar.extractFile(join(layout.resources, 'app.asar'), 'package.json').toString()) as { main: string }).main;
  const expected = [`/${main}`, '/out/main/cli.js', '/out/preload/index.cjs', '/out/preload/gpu.cjs', '/out/renderer/index.html', '/out/renderer/gpu/index.html'];
  for (const name of Object.keys(WORKER_ENTRIES)) expected.push(`/out/main/${name}.js`);
  for (const f of expected) expect(files, `${f} is in app.asar`).toContain(f);
  expect(files.filter((f) => f.startsWith('/src-') || /^\/out\/.*\.ts$/.test(f))).toEqual([]);
  for (const dev of ['tsx', 'vite', 'electron', 'electron-vite', 'svelte', '@playwright/test']) {
    expect(layout.entries.has(`/node_modules/${dev}`), `${dev} is not shipped`).toBe(false);
  }
});

/** Packages the app ships: package-lock's non-dev ones that are installed here (optional ones may not be). */
function productionPackages(): { path: string; name: string; version: string }[] {
  // what electron-builder.yml leaves out on purpose
  const leftOut = leftOutPackages();
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; devOptional?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([p, e]) => p.startsWith('node_modules/') && !e.dev && !e.devOptional && existsSync(join(repoRoot, p)))
    .map(([p, e]) => ({ path: p, name: p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length), version: e.version ?? '' }))
    .filter((p) => !leftOut.has(p.name));
}

/** node-gyp's intermediate folders: nothing in them is loaded (electron-builder leaves them out) */
const BUILD_INTERMEDIATES = new Set(['node_modules', 'obj', 'obj.target', '.deps']);

function nativeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && !BUILD_INTERMEDIATES.has(e.name)) out.push(...nativeFiles(p));
    else if (e.isFile() && NATIVE.test(e.name)) out.push(p);
  }
  return out;
}

test('every native module the app loads is unpacked from the asar, as a real file', () => {
  const expected = productionPackages().flatMap((p) => nativeFiles(join(repoRoot, p.path))).map((f) => `/${relative(repoRoot, f)}`);
  const blas = join(repoRoot, 'native', 'blas', 'build', 'Release', 'dino_blas.node');
  if (existsSync(blas)) expected.push('/native/blas/build/Release/dino_blas.node', '/native/blas/index.js');
  // better-sqlite3, hnswlib-node and sharp are always there; the BLAS addon where it was built
  expect(expected.some((f) => f.includes('better_sqlite3.node'))).toBe(true);
  expect(expected.some((f) => f.includes('hnswlib-node'))).toBe(true);
  expect(expected.some((f) => f.includes('/@img/sharp-'))).toBe(true);
  for (const f of expected) {
    expect(layout.entries.get(f), `${f} is marked unpacked in app.asar`).toBe('unpack');
    expect(existsSync(join(layout.resources, 'app.asar.unpacked', f)), `${f} is in app.asar.unpacked`).toBe(true);
  }
  // and nothing native stays packed where dlopen cannot read it
  expect([...layout.entries].filter(([f, how]) => NATIVE.test(f) && how === 'pack').map(([f]) => f)).toEqual([]);
});

test('the sample photos and the licences lie beside app.asar', () => {
  const samples = join(layout.resources, 'sample-photos');
  const count = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? count(join(dir, e.name)) : /\.jpe?g$/i.test(e.name) ? 1 : 0), 0);
  expect(count(samples)).toBe(count(SAMPLES));
  expect(readFileSync(join(samples, 'LICENCE.txt'), 'utf8')).toContain('CC BY 4.0');
  expect(readFileSync(join(layout.resources, 'LICENCE.txt'), 'utf8')).toContain('MIT License');
  const notices = readFileSync(join(layout.resources, 'THIRD-PARTY-LICENCES.txt'), 'utf8');
  for (const p of productionPackages()) expect(notices, `${p.name} is in the third-party licences`).toContain(`${p.name} ${p.version} (`);
});

/** Runs the packaged CLI (out/main/cli.js of the extracted app) with node and returns its JSON answer. */
function packagedCli(catalog: string, ...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(layout.extracted, 'out', 'main', 'cli.js'), ...args, '--catalog', catalog, '--json'], {
    cwd: layout.work,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`packaged dino-explorer ${args.join(' ')} exited with ${r.status}\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('the packaged files run on their own: import, embed, cluster, train and serve', async () => {
  test.setTimeout(180_000);
  const catalog = join(layout.work, 'catalog');
  const samples = join(layout.resources, 'sample-photos');
  expect(packagedCli(catalog, 'import', samples)).toMatchObject({ imported: 36, failed: [] });
  expect(packagedCli(catalog, 'models', 'add', TINY_VIT)).toMatchObject({ model: 1 });
  expect(packagedCli(catalog, 'embed')).toMatchObject({ embedded: 36, failed: 0 }); // embed-worker, tfjs wasm
  expect(packagedCli(catalog, 'cluster', '--k', '3')).toMatchObject({ k: 3 }); // analysis-worker
  expect(packagedCli(catalog, 'train', '--max-steps', '2', '--no-embed')).toMatchObject({ steps: 2 }); // train-worker

  // web mode from the packaged files: the first page is served
  const child = spawn(process.execPath, [join(layout.extracted, 'out', 'main', 'cli.js'), 'serve', '--catalog', catalog, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
  } finally {
    child.kill('SIGTERM');
  }
});

test('every worker module of the package loads: all its imports resolve', () => {
  // Imported on a main thread, a worker's body fails (no parentPort, no workerData), but only after
  // every module it imports has loaded; an import missing from the package fails before the body runs.
  const probe = `
    const file = process.argv[1];
    try { await import(file); console.log('body ran') }
    catch (e) {
      const inBody = String(e.stack).split('\\n').some((l) => l.trimStart().startsWith('at ') && l.includes(file));
      console.log(inBody ? 'body ran' : 'did not load: ' + e.stack);
    }`;
  for (const name of Object.keys(WORKER_ENTRIES)) {
    const file = join(layout.extracted, 'out', 'main', `${name}.js`);
    expect(statSync(file).isFile()).toBe(true);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe, pathToFileURL(file).href], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim(), `${name}: ${r.stderr}`).toBe('body ran');
  }
});

/** The packages a built module loads before it runs: its static imports, followed through the build's own chunks. */
function staticPackages(dir: string, entries: string[]): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/^import (?:[^'"]*? from )?"([^"]+)";$/gm)) {
      if (m[1]!.startsWith('./')) visit(m[1]!.slice(2));
      else packages.add(m[1]!);
    }
  };
  for (const e of entries) visit(e);
  return packages;
}

test('the first screen loads no model code: tfjs and sharp wait for a job', () => {
  const dir = join(layout.extracted, 'out', 'main');
  const cli = readFileSync(join(dir, 'cli.js'), 'utf8');
  const serveChunk = /\bserve: \(\) => import\("\.\/([^"]+)"\)/.exec(cli)?.[1];
  expect(serveChunk, 'cli.js loads the serve command lazily').toBeTruthy();
  // the entry hands web mode (server/) to the CLI, loaded when serve runs (src-main/entries/cli.ts)
  const webChunk = /\bwebMode: async \(\) => \(await import\("\.\/([^"]+)"\)\)/.exec(cli)?.[1];
  expect(webChunk, 'cli.js loads web mode lazily').toBeTruthy();
  const heavy = (p: string): boolean => p.startsWith('@tensorflow/') || p === 'sharp';
  // Electron's main process, and web mode's server
  for (const entries of [['index.js'], ['cli.js', serveChunk!, webChunk!]]) {
    const loaded = staticPackages(dir, entries);
    expect(loaded.has('better-sqlite3'), `${entries} opens the catalog`).toBe(true);
    expect([...loaded].filter(heavy), `${entries} at start`).toEqual([]);
  }
  // the walk does find them where they are loaded up front
  expect(staticPackages(dir, ['train-worker.js']).has('@tensorflow/tfjs-core')).toBe(true);
});
