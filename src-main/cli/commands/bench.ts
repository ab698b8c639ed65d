import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, BenchResult } from '../../bench/types';
import { parseChoice, releaseWebgpu } from '../../dino/runtime/node/backend';
import { fromBundle } from '../../services/bundle';
import { UsageError, type Command } from '../command';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

function benchNames(): string[] {
  return readdirSync(benchDir)
    .filter((f) => /^[a-z-]+\.ts$/.test(f) && f !== 'types.ts' && !f.endsWith('.test.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

export const command: Command = {
  name: 'bench',
  summary: 'run benchmarks, each against a baseline measured in the same run',
  usage: 'bench [NAME...] [--quick] [--backend tensorflow|webgpu|wasm|cpu] [--out FILE] [--json]',
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, backend: { type: 'string' } },
  async run(ctx) {
    // benchmarks read fixtures and scripts of the checkout, and load their modules by path
    if (fromBundle) throw new UsageError('benchmarks run from the sources of a checkout: `npm run bench`');
    const all = benchNames();
    const names = ctx.positionals.length ? ctx.positionals : all;
    for (const n of names) if (!all.includes(n)) throw new UsageError(`unknown benchmark ${n} (have: ${all.join(', ')})`);
    const backend = ctx.values.backend as string | undefined;
    if (backend !== undefined) {
      try {
        // as DINO_BACKEND: the benchmarks and their workers start this backend
        process.env.DINO_BACKEND = parseChoice(backend);
      } catch (e) {
        throw new UsageError(`--backend: ${(e as Error).message.replace(/^DINO_BACKEND /, '')}`);
      }
    }
    const results: BenchResult[] = [];
    try {
      for (const n of names) {
        const { benchmark } = (await import(join(benchDir, `${n}.ts`))) as { benchmark: Benchmark };
        ctx.log(`bench ${n}: ${benchmark.description}`);
        const rs = await benchmark.run({ log: ctx.log, quick: Boolean(ctx.values.quick) });
        for (const r of rs) ctx.log(`  ${formatRow(r)}`);
        results.push(...rs);
      }
    } finally {
      // a live GPU device would keep the process running
      await releaseWebgpu();
    }
    const out = resolve((ctx.values.out as string | undefined) ?? join('bench-results', `bench-${Date.now()}.json`));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
    return { results, out };
  },
  human(result) {
    const { results, out } = result as { results: BenchResult[]; out: string };
    const rows = results.map(formatRow);
    return ['name | value | baseline | ratio', ...rows, `written to ${out}`].join('\n');
  },
};

function formatRow(r: BenchResult): string {
  const base = r.baselineValue === null ? r.baseline : `${r.baseline} ${fmt(r.baselineValue)} ${r.unit}`;
  const extra = r.extra ? ` (${Object.entries(r.extra).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join(', ')})` : '';
  return `${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${r.ratio === null ? '-' : r.ratio.toFixed(2)}${extra}`;
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}
