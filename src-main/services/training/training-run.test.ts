import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastRun, listMetrics } from '../../db/repos/training';
import { listModels } from '../../db/repos/models';
import { countEmbeddings } from '../../db/repos/embeddings';
import { openCatalog } from '../catalog/catalog';
import { train } from './training-run';
import { repoRoot } from '../../testing/repo-root';
import { startImport } from '../jobs/start-jobs';

const samples = join(repoRoot, 'resources', 'sample-photos');
const bin = join(repoRoot, 'bin', 'dino-explorer.js');

// A config small enough for CI: the cpu-micro preset with 32/16 px crops and batch 8 (4 steps an epoch
// on the 36 sample photos), checkpointing after every step.
const SMALL = ['--preset', 'cpu-micro', '--set', 'batchSize=8', '--set', 'globalSize=32', '--set', 'localSize=16', '--set', 'imgSize=32', '--set', 'nLocal=2', '--set', 'outDim=256', '--set', 'hiddenDim=128'];

function cli(args: string[], onStderr?: (line: string, kill: () => void) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) onStderr?.(line, () => child.kill('SIGKILL'));
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout }));
  });
}

describe('training through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-train-'));
  const catalogDir = join(dir, 'catalog');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a kill mid-run: --resume continues from the checkpoint and the curve is continuous', async () => {
    const c = openCatalog(catalogDir);
    await startImport(c, [samples]).promise;
    await c.close();

    // kill -9 once two steps are stored (a checkpoint is written after every step). Read from the
    // catalog, not from the progress lines: those come every 2 s, and may all be of another phase
    // (the label-free score after each checkpoint) when the machine is loaded.
    let kill = (): void => undefined;
    const running = cli(['train', '--catalog', catalogDir, ...SMALL, '--epochs', '3', '--checkpoint-seconds', '0', '--no-embed'], (_line, k) => (kill = k));
    let stepsStored = 0;
    const watch = setInterval(() => {
      const reader = openCatalog(catalogDir, { readOnly: true });
      try {
        const run = lastRun(reader.db);
        stepsStored = run ? listMetrics(reader.db, run.id).length : 0;
      } finally {
        void reader.close();
      }
      if (stepsStored >= 2) kill();
    }, 50);
    const killed = await running.finally(() => clearInterval(watch));
    expect(killed.signal).toBe('SIGKILL');

    const before = openCatalog(catalogDir);
    const run = lastRun(before.db)!;
    // the dead process's run does not stay 'running' for ever: the next opener marks it
    expect(before.recovered.interruptedRuns).toBe(1);
    expect(run.state).toBe('interrupted');
    const doneBefore = listMetrics(before.db, run.id).length;
    expect(doneBefore).toBeGreaterThanOrEqual(2);
    expect(run.checkpoint).toBeTruthy();
    expect(listModels(before.db)).toHaveLength(0);
    await before.close();

    const resumed = await cli(['train', '--catalog', catalogDir, '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as { run: number; steps: number; totalSteps: number; model: number; finalLoss: number; embedded: number };
    expect(result.run).toBe(run.id);
    expect(result.steps).toBe(result.totalSteps);
    expect(result.totalSteps).toBe(12);
    expect(Number.isFinite(result.finalLoss)).toBe(true);

    const after = openCatalog(catalogDir);
    const metrics = listMetrics(after.db, run.id);
    // every step once, 1..12, no gap where the process died
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // the loss carries on where it was: no jump back to an untrained model's level
    const losses = metrics.map((m) => m.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(Math.abs(losses[doneBefore]! - losses[doneBefore - 1]!)).toBeLessThan(Math.max(1, 0.5 * Math.abs(losses[doneBefore - 1]!)));
    const models = listModels(after.db);
    expect(models).toHaveLength(1);
    expect(models[0]!.source).toBe('trained');
    expect(countEmbeddings(after.db, result.model)).toBe(36);
    await after.close();
  }, 600_000);

  it('is reproducible: the same photos imported in another order give the same seeded run', async () => {
    const losses: number[][] = [];
    for (const folders of [['caltech-101', 'trashnet'], ['trashnet', 'caltech-101']]) {
      const c = openCatalog(join(dir, `order-${folders[0]}`));
      try {
        await startImport(c, folders.map((f) => join(samples, f))).promise;
        const overrides = { batchSize: 8, globalSize: 32, localSize: 16, imgSize: 32, nLocal: 2, outDim: 256, hiddenDim: 128 };
        const r = await train(c, { preset: 'cpu-micro', epochs: 1, overrides, maxSteps: 2, embed: false });
        losses.push(listMetrics(c.db, r.run).map((m) => m.loss));
      } finally {
        await c.close();
      }
    }
    expect(losses[0]).toHaveLength(2);
    expect(losses[1]).toEqual(losses[0]);
  });
});
