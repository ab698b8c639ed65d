import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseChoice, releaseWebgpu } from '../dino/runtime/node/backend';
import type { Benchmark, BenchResult } from './types';

// Runs benchmarks by name for `dino-explorer bench` (cli/commands/bench.ts): each file of this folder
// but this one and types.ts exports one `benchmark`.

const benchDir = dirname(fileURLToPath(import.meta.url));

export function benchNames(): string[] {
  return readdirSync(benchDir)
    .filter((f) => /^[a-z-]+\.ts$/.test(f) && f !== 'types.ts' && f !== 'run.ts')
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

/** The backend the benchmarks and their workers start (as DINO_BACKEND); throws on an unknown name. */
export function useBackend(name: string): void {
  process.env.DINO_BACKEND = parseChoice(name);
}

export async function runBenchmarks(names: readonly string[], opts: { quick: boolean; log(message: string): void; onResult(r: BenchResult): void }): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  try {
    for (const n of names) {
      const { benchmark } = (await import(join(benchDir, `${n}.ts`))) as { benchmark: Benchmark };
      opts.log(`bench ${n}: ${benchmark.description}`);
      for (const r of await benchmark.run({ log: opts.log, quick: opts.quick })) {
        opts.onResult(r);
        results.push(r);
      }
    }
  } finally {
    // a live GPU device would keep the process running
    await releaseWebgpu();
  }
  return results;
}
