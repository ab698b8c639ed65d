import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { benchNames, runBenchmarks, useBackend } from '../../bench/run';
import type { BenchResult } from '../../bench/types';
import { fromBundle } from '../../services/catalog/app-files';
import { UsageError, type Command } from '../command';

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
        useBackend(backend);
      } catch (e) {
        throw new UsageError(`--backend: ${(e as Error).message.replace(/^DINO_BACKEND /, '')}`);
      }
    }
    const results = await runBenchmarks(names, { quick: Boolean(ctx.values.quick), log: ctx.log, onResult: (r) => ctx.log(`  ${formatRow(r)}`) });
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
