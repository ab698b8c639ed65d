/**
 * npx tsx scripts/quality-study.ts [--data DIR ...] [--out DIR] [--table-only]
 *
 * Does a label-free score track labelled k-NN? Trains the runs below one at a time with
 * `dino-explorer train-eval` (niced; each run's JSON kept in --out, so an interrupted study resumes
 * where it stopped), then ranks every model it made (each evaluation point of each run, the random
 * init of each architecture, raw pixels) by k-NN20 and by each label-free score, and prints the rank
 * correlations per data set as a Markdown table (src-main/dino/README.md, "Label-free quality").
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { kendallTau, spearman } from '../src-main/analysis/rank-correlation';
import type { TrainEvalResult } from '../src-main/services/labelled-eval/learning-curve';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string', multiple: true, default: [join(root, '..', 'shared', 'data', 'caltech10'), join(root, '..', 'shared', 'data', 'trashnet6')] },
    out: { type: 'string', default: join(root, 'bench-results', 'quality-study') },
    'table-only': { type: 'boolean', default: false },
  },
});

/** Short and long runs of several recipes, and one with a learning rate 12x the preset's (a bad model on purpose). */
const RUNS: { label: string; args: string[] }[] = [
  { label: 'cpu-patch8', args: ['--preset', 'cpu-patch8', '--steps', '1200', '--points', '4'] },
  { label: 'cpu-micro', args: ['--preset', 'cpu-micro', '--steps', '400', '--points', '2'] },
  { label: 'cpu-narrow', args: ['--preset', 'cpu-narrow', '--steps', '400', '--points', '2'] },
  { label: 'cpu-patch8 lr 0.05', args: ['--preset', 'cpu-patch8', '--steps', '300', '--points', '1', '--set', 'lr=0.05'] },
];

interface ModelRow {
  model: string;
  /** the run it came from (its random init counts as the run's start); null for pixels */
  run: string | null;
  knn20: number;
  retrieval: number;
  rankme: number;
  dim: number;
}

const SAMPLE = 256;

function runAll(data: string): TrainEvalResult[] {
  const out: TrainEvalResult[] = [];
  for (const run of RUNS) {
    const file = join(values.out, `${basename(data)}-${run.label.replace(/\W+/g, '-')}.json`);
    if (!existsSync(file)) {
      if (values['table-only']) continue;
      const args = ['-n', '10', process.execPath, join(root, 'bin', 'dino-explorer.js'), 'train-eval', '--data', data, ...run.args, '--json'];
      process.stderr.write(`\n$ nice ${args.slice(2).join(' ')}\n`);
      const t0 = Date.now();
      const r = spawnSync('nice', args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      if (r.status !== 0) {
        process.stderr.write(`failed (${r.status}): ${r.stdout}\n`);
        continue;
      }
      writeFileSync(file, r.stdout);
      process.stderr.write(`done in ${((Date.now() - t0) / 60_000).toFixed(1)} min\n`);
    }
    out.push({ ...(JSON.parse(readFileSync(file, 'utf8')) as TrainEvalResult), preset: run.label });
  }
  return out;
}

function models(results: TrainEvalResult[]): ModelRow[] {
  const rows: ModelRow[] = [];
  const first = results[0];
  if (!first) return rows;
  rows.push({ model: 'pixels', run: null, knn20: first.pixels, ...first.labelFree.pixels });
  const randoms = new Set<number>();
  for (const r of results) {
    // one random init per architecture (the runs of a preset share it)
    const dim = r.labelFree.random.dim;
    if (!randoms.has(dim)) {
      randoms.add(dim);
      rows.push({ model: `random init (${r.preset.split(' ')[0]}, width ${dim})`, run: r.preset, knn20: r.random, ...r.labelFree.random });
    }
    for (const p of r.curve) {
      if (p.retrieval === null || p.rankme === null || p.dim === null) continue;
      rows.push({ model: `${r.preset}, ${p.steps} steps`, run: r.preset, knn20: p.knn20, retrieval: p.retrieval, rankme: p.rankme, dim: p.dim });
    }
  }
  return rows;
}

const SCORES: { name: string; of: (m: ModelRow) => number }[] = [
  { name: 'augmentation retrieval', of: (m) => m.retrieval },
  { name: 'RankMe', of: (m) => m.rankme },
  { name: 'RankMe / min(sample, width)', of: (m) => m.rankme / Math.min(SAMPLE, m.dim) },
];

/** Which models a correlation is over: all of them, the networks (no pixels), one run's start and checkpoints. */
const SUBSETS: { name: string; keep: (m: ModelRow) => boolean }[] = [
  { name: 'all models', keep: () => true },
  { name: 'networks only (no pixels)', keep: (m) => m.run !== null },
  { name: `one run: ${RUNS[0]!.label} from random init`, keep: (m) => m.run === RUNS[0]!.label },
];

mkdirSync(values.out, { recursive: true });
const summary: string[] = ['| models | score | ' + values.data.map((d) => `${basename(d)} Spearman | Kendall`).join(' | ') + ' |'];
summary.push(`|---|---|${values.data.map(() => '---|---').join('|')}|`);
const perSet = values.data.map((d) => ({ data: d, rows: models(runAll(d)) }));
for (const { data, rows } of perSet) {
  process.stdout.write(`\n${basename(data)}: ${rows.length} models\n\n| model | k-NN20 | retrieval | RankMe | RankMe / min(${SAMPLE}, width) |\n|---|---|---|---|---|\n`);
  for (const m of rows) {
    process.stdout.write(`| ${m.model} | ${m.knn20.toFixed(3)} | ${m.retrieval.toFixed(3)} | ${m.rankme.toFixed(1)} | ${(m.rankme / Math.min(SAMPLE, m.dim)).toFixed(3)} |\n`);
  }
}
for (const subset of SUBSETS) {
  for (const s of SCORES) {
    const cells = perSet.map(({ rows }) => {
      const kept = rows.filter(subset.keep);
      const knn = kept.map((m) => m.knn20);
      const x = kept.map(s.of);
      return `${spearman(x, knn).toFixed(2)} | ${kendallTau(x, knn).toFixed(2)}`;
    });
    summary.push(`| ${subset.name} (${perSet[0]!.rows.filter(subset.keep).length}) | ${s.name} | ${cells.join(' | ')} |`);
  }
}
process.stdout.write(`\nrank correlation with k-NN20 over the models of each set\n\n${summary.join('\n')}\n`);
