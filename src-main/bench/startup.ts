import { chromium, type Browser } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from '../../playwright.config';
import { repoRoot as root } from '../testing/repo-root';
import { makeCameraJpeg } from '../testing/test-photos';
import { median, ratio, type Benchmark, type BenchResult } from './types';

const bundledCli = join(root, 'out', 'main', 'cli.js');

/** How web mode is started: from the build, or from the TypeScript sources through tsx. */
const VARIANTS = {
  bundle: [bundledCli],
  sources: [join(root, 'bin', 'dino-explorer.js')],
} as const;
type Variant = keyof typeof VARIANTS;

// The 10k catalog (photos and their import) is kept between runs: making it is not what is timed.
const LARGE = 10_000;
const CACHE = join(tmpdir(), 'dino-bench-startup-v1');

/** A cold start's milestones, in ms from the spawn of the server process. */
interface Start {
  /** the server prints its address */
  listening: number;
  /** the first page (index.html) has come back from it */
  firstPage: number;
  /** the browser has painted the first grid: every thumbnail on screen decoded, then two frames */
  firstGrid: number;
}

function cli(args: string[], what: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [bundledCli, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** A catalog of the sample photos (fresh each run), and the cached one of LARGE generated photos. */
async function catalogs(work: string, log: (m: string) => void): Promise<{ name: string; dir: string; photos: number }[]> {
  const samples = join(work, 'samples');
  cli(['import', join(root, 'resources', 'sample-photos'), '--catalog', samples], 'importing the sample photos');
  const large = join(CACHE, 'catalog');
  const status = existsSync(large) ? (cli(['status', '--catalog', large], 'status') as { images: number }) : { images: 0 };
  if (status.images !== LARGE) {
    rmSync(CACHE, { recursive: true, force: true });
    const photos = join(CACHE, 'photos');
    mkdirSync(photos, { recursive: true });
    log(`  making ${LARGE} small JPEGs and importing them into ${large} (once; not timed)`);
    for (let i = 0; i < LARGE; i++) writeFileSync(join(photos, `p${String(i).padStart(5, '0')}.jpg`), await makeCameraJpeg(i + 1, 320, 240));
    const r = cli(['import', photos, '--catalog', large], `importing ${LARGE} photos`) as { imported: number };
    if (r.imported !== LARGE) throw new Error(`imported ${r.imported} of ${LARGE} photos`);
  }
  return [
    { name: 'samples', dir: samples, photos: 36 },
    { name: '10k', dir: large, photos: LARGE },
  ];
}

/** the parts of the page the check reads (this tsconfig has no DOM lib) */
interface Img {
  complete: boolean;
  naturalWidth: number;
  getBoundingClientRect(): { top: number; bottom: number };
}
interface Doc {
  document: { querySelectorAll(selector: string): ArrayLike<Img> };
  innerHeight: number;
  requestAnimationFrame(f: () => void): void;
}

/** Every thumbnail the grid shows on screen has decoded (run in the page: its CSP allows no eval of strings). */
function gridPainted(): boolean {
  const w = globalThis as unknown as Doc;
  const onScreen = Array.from(w.document.querySelectorAll('[data-testid="grid-thumb"]')).filter((i) => {
    const r = i.getBoundingClientRect();
    return r.bottom > 0 && r.top < w.innerHeight;
  });
  return onScreen.length > 0 && onScreen.every((i) => i.complete && i.naturalWidth > 0);
}

function twoFrames(): Promise<void> {
  const w = globalThis as unknown as Doc;
  return new Promise((r) => w.requestAnimationFrame(() => w.requestAnimationFrame(r)));
}

async function coldStart(variant: Variant, catalogDir: string, browser: Browser): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...VARIANTS[variant], 'serve', '--catalog', catalogDir, '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /^listening on (\S+)$/m.exec(out);
        if (m) ok(m[1]!);
      });
      child.on('exit', (code) => fail(new Error(`serve (${variant}) exited with ${code}: ${err}`)));
    });
    const listening = performance.now() - t0;
    const page = await fetch(url);
    if (!page.ok || !(await page.text()).includes('<div id="app">')) throw new Error(`the first page answered ${page.status}`);
    const firstPage = performance.now() - t0;
    // a fresh context: no HTTP cache from an earlier start
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const tab = await context.newPage();
      await tab.goto(url);
      await tab.waitForFunction(gridPainted, undefined, { polling: 'raf', timeout: 60_000 });
      await tab.evaluate(twoFrames);
      return { listening, firstPage, firstGrid: performance.now() - t0 };
    } finally {
      await context.close();
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Web mode's cold start from the build (out/main/cli.js) against the same start from the sources
 * (bin/dino-explorer.js through tsx), same run, alternating: a new server process each time, on
 * warm disk caches; the browser is started once and each start gets a fresh context.
 */
export const benchmark: Benchmark = {
  name: 'startup',
  description: 'web mode cold start to listening, first page served and first grid painted: build (out/) vs sources (tsx), sample photos and a 10k catalog',
  async run({ log, quick }) {
    log('  building out/ (not timed)');
    const build = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
    const work = mkdtempSync(join(tmpdir(), 'dino-bench-startup-'));
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const results: BenchResult[] = [];
    try {
      const reps = quick ? 3 : 7;
      for (const c of await catalogs(work, log)) {
        // one start of each, not counted: file caches, tsx's compile cache
        for (const v of ['bundle', 'sources'] as const) await coldStart(v, c.dir, browser);
        const runs: Record<Variant, Start[]> = { bundle: [], sources: [] };
        for (let i = 0; i < reps; i++) for (const v of ['bundle', 'sources'] as const) runs[v].push(await coldStart(v, c.dir, browser));
        for (const m of ['listening', 'firstPage', 'firstGrid'] as const) {
          const ours = median(runs.bundle.map((r) => r[m]));
          const base = median(runs.sources.map((r) => r[m]));
          results.push({
            name: `startup ${m} (${c.name}, ${c.photos} photos)`,
            value: ours,
            unit: 'ms',
            baseline: 'sources through tsx',
            baselineValue: base,
            ratio: ratio(ours, base),
            extra: {
              runs: reps,
              'bundle min': Math.min(...runs.bundle.map((r) => r[m])),
              'sources min': Math.min(...runs.sources.map((r) => r[m])),
              // what the browser spends after the first page (a fresh context, the UI's load, the thumbnails)
              ...(m === 'firstGrid' ? { 'of it after the first page (bundle)': median(runs.bundle.map((r) => r.firstGrid - r.firstPage)) } : {}),
            },
          });
        }
      }
    } finally {
      await browser.close();
      rmSync(work, { recursive: true, force: true });
    }
    return results;
  },
};
