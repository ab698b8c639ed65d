import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeCameraJpeg } from '../testing/test-photos';
import { THUMB_SIZE } from '../library/thumbnail';
import { openCatalog } from '../services/catalog/catalog';
import { defaultConcurrency } from '../services/photos/import-photos';
import { ratio, type Benchmark } from './types';
import { startImport } from '../services/jobs/start-jobs';

// Generated photos are kept between runs (they take seconds each to make and are not what is timed).
const CACHE = join(tmpdir(), 'dino-bench-import-v2');
const ROUNDS = 3;

async function photos(n: number, log: (m: string) => void): Promise<string[]> {
  mkdirSync(CACHE, { recursive: true });
  const files = Array.from({ length: n }, (_, i) => join(CACHE, `cam-${String(i).padStart(3, '0')}.jpg`));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) log(`  making ${missing.length} 12-megapixel JPEGs in ${CACHE} (not timed)`);
  await pool(missing, 2, async (f) => writeFileSync(f, await makeCameraJpeg(files.indexOf(f) + 1)));
  return files;
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** The baseline: what any photo app must do at least, decode + orient + thumbnail + write, and nothing else. */
async function bareLoop(files: readonly string[], outDir: string, concurrency: number): Promise<number> {
  const t0 = performance.now();
  await pool(files, concurrency, async (f, i) => {
    await sharp(f).rotate().resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toFile(join(outDir, `${i}.jpg`));
  });
  return (performance.now() - t0) / 1000;
}

/** Ours: the whole import job (scan, hash, probe, EXIF, thumbnail, atomic writes, database) into a fresh catalog. */
async function ourImport(folder: string, catalogDir: string, concurrency: number): Promise<number> {
  const catalog = openCatalog(catalogDir);
  try {
    const t0 = performance.now();
    const r = await startImport(catalog, [folder], { concurrency }).promise;
    const s = (performance.now() - t0) / 1000;
    if (r.imported === 0 || r.failed.length) throw new Error(`bench import failed: ${JSON.stringify(r.failed.slice(0, 3))}`);
    return s;
  } finally {
    await catalog.close();
  }
}

export const benchmark: Benchmark = {
  name: 'import',
  description: 'import throughput on 12-megapixel JPEGs, against a bare sharp decode + thumbnail loop (same files, same concurrency)',
  async run({ log, quick }) {
    const n = quick ? 8 : 24;
    const files = await photos(n, log);
    const concurrency = defaultConcurrency();
    const work = mkdtempSync(join(tmpdir(), 'dino-bench-import-'));
    try {
      // The photos as their own folder, so the import sees exactly these n.
      const folder = join(work, 'photos');
      mkdirSync(folder);
      for (const f of files) writeFileSync(join(folder, f.slice(CACHE.length + 1)), readFileSync(f));
      const folderFiles = files.map((f) => join(folder, f.slice(CACHE.length + 1)));
      // Warm-up (page cache, sharp's first load, module loading) for both sides, not timed.
      await bareLoop(folderFiles.slice(0, 2), mkdtempSync(join(work, 'warm-')), concurrency);
      await ourImport(folder, join(work, 'warm-catalog'), concurrency);
      // Rounds alternate so that load from other processes hits both sides alike; the best of each counts.
      const ours: number[] = [];
      const bare: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const out = join(work, `bare-${r}`);
        mkdirSync(out);
        bare.push(await bareLoop(folderFiles, out, concurrency));
        ours.push(await ourImport(folder, join(work, `catalog-${r}`), concurrency));
        log(`  round ${r + 1}: ours ${ours.at(-1)!.toFixed(2)} s, bare ${bare.at(-1)!.toFixed(2)} s`);
      }
      const best = Math.min(...ours);
      const bestBare = Math.min(...bare);
      return [{
        name: 'import 12MP JPEG',
        value: (best / n) * 1000,
        unit: 'ms/photo',
        baseline: 'bare sharp decode+rotate+thumbnail+write loop',
        baselineValue: (bestBare / n) * 1000,
        ratio: ratio(best, bestBare),
        extra: { 'img/s': n / best, 'baseline img/s': n / bestBare, photos: n, concurrency },
      }];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
