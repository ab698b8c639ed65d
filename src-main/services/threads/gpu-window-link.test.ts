/**
 * Jobs in the GPU window, with a worker thread on wasm standing in for the window (its page's job
 * table, served on Node MessagePorts as Electron's ports reach the page): the services train and
 * embed there through the same protocol as in the workers and get the workers' numbers; pause,
 * resume and cancel reach it; a window lost mid-run fails the job with a message, keeps the last
 * checkpoint, and the run resumes from it; the Settings choice of the CPU keeps jobs off the window.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setSetting } from '../../db/repos/settings';
import { getRun, lastRun, listMetrics } from '../../db/repos/training';
import { openCatalog, type Catalog } from '../catalog/catalog';
import { backendOptions, probeBackend } from '../backends/backend-probe';
import { embedItems } from '../embedding/catalog-embedding';
import { attentionOf } from '../search/attention-maps';
import { modelDTOs } from '../models/model-list';
import { provideGpuWindow, type GpuWindow } from './gpu-window-link';
import { ComputeLostError, nodePortChannel } from './job-channel';
import { pauseResumeCancel, TINY } from '../../testing/train-scenario';
import { train } from '../training/training-run';
import { startWorker } from './worker-host';
import { repoRoot } from '../../testing/repo-root';
import { startImport, startTraining } from '../jobs/start-jobs';

const samples = resolve(repoRoot, 'resources', 'sample-photos', 'caltech-101');

/** A stand-in GPU window: a worker thread that serves each job port it is handed. */
function standIn(): { window: GpuWindow; worker: Worker } {
  const worker = startWorker(new URL('../../testing/gpu-window-standin.ts', import.meta.url), null);
  const window: GpuWindow = {
    // a hardware adapter, as far as the probe can tell: the automatic choice takes the window
    adapter: { vendor: 'stand-in', architecture: 'wasm', device: '', description: '', api: 'test', software: false, maxBufferSize: 2 ** 31 },
    openJob() {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ port: port2 }, [port2]);
      return nodePortChannel(port1, () => new ComputeLostError('the stand-in GPU window stopped'));
    },
  };
  return { window, worker };
}

describe('jobs in the GPU window (a worker thread on wasm stands in for it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-gpu-window-'));
  let catalog: Catalog;
  let current = standIn();
  const backendBefore = process.env.DINO_BACKEND;
  const photos = join(dir, 'photos');

  beforeAll(async () => {
    delete process.env.DINO_BACKEND;
    provideGpuWindow(async () => current.window);
    for (const label of readdirSync(samples).slice(0, 3)) cpSync(join(samples, label), join(photos, label), { recursive: true });
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [photos]).promise;
  }, 120_000);

  afterAll(async () => {
    if (backendBefore !== undefined) process.env.DINO_BACKEND = backendBefore;
    provideGpuWindow(null);
    await current.worker.terminate();
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the backend a GPU window with a hardware adapter gives, and what the Settings picker offers', async () => {
    expect(await probeBackend('auto')).toMatchObject({ name: 'webgpu', gpu: true, description: 'webgpu (stand-in wasm, Dawn test) in the GPU window', window: current.window });
    const cpu = await probeBackend('cpu');
    expect(cpu).toMatchObject({ gpu: false, workerBackend: expect.stringMatching(/^(wasm|tensorflow)$/), fallbacks: ['GPU: not used, Settings ask for the CPU'] });
    expect(cpu.window).toBeUndefined();
    const options = await backendOptions();
    expect(options.map((o) => [o.value, o.label, o.available])).toEqual([
      ['auto', 'Automatic: GPU (stand-in wasm, test)', true],
      ['gpu', 'GPU (stand-in wasm, test)', true],
      ['cpu', expect.stringMatching(/^CPU \((wasm|wasm \+ BLAS|tfjs-node)\)$/), true],
    ]);
    // a window with only a software adapter says so, and a GPU asked for in Settings says there is none
    const software = { ...current.window, adapter: { ...current.window.adapter, software: true } };
    provideGpuWindow(async () => software);
    try {
      const gpu = await probeBackend('gpu');
      expect(gpu.window).toBeUndefined();
      expect(gpu.fallbacks).toEqual([expect.stringMatching(/^webgpu \(GPU window\): only a software adapter/), expect.stringMatching(/^GPU: asked for in Settings, but none is usable here/)]);
      expect((await backendOptions())[1]).toMatchObject({ value: 'gpu', label: 'GPU: none usable here', available: false, detail: expect.stringMatching(/only a software adapter/) });
    } finally {
      provideGpuWindow(async () => current.window);
    }
  });

  it("trains in the window with the worker's losses, unless the Settings ask for the CPU", async () => {
    setSetting(catalog.db, 'backend', 'cpu');
    const cpu: number[] = [];
    const inWorker = await train(catalog, { preset: 'cpu-patch8', overrides: TINY, maxSteps: 3, embed: false, onMetric: (m) => cpu.push(m.loss) });
    expect(inWorker.backend).toMatch(/^wasm/);
    expect(inWorker.backend).not.toMatch(/GPU window/);

    setSetting(catalog.db, 'backend', 'auto');
    const gpu: number[] = [];
    const inWindow = await train(catalog, { preset: 'cpu-patch8', overrides: TINY, maxSteps: 3, embed: false, onMetric: (m) => gpu.push(m.loss) });
    expect(inWindow.backend).toMatch(/^wasm .* in a stand-in GPU window$/);
    expect(JSON.parse(getRun(catalog.db, inWindow.run)!.config).backend).toBe('webgpu (stand-in wasm, Dawn test) in the GPU window');
    expect(gpu).toHaveLength(3);
    gpu.forEach((l, i) => expect(l).toBeCloseTo(cpu[i]!, 6));
    // the window's checkpoint and teacher were written by the main process
    expect(existsSync(join(catalog.paths.models, `run-${inWindow.run}.state.safetensors`))).toBe(true);
    expect(existsSync(join(catalog.paths.models, `run-${inWindow.run}-teacher.safetensors`))).toBe(true);
  }, 120_000);

  it('pauses, resumes and cancels in the window; a window lost mid-run fails the job, and the run resumes from its checkpoint', async () => {
    const { error, run, steps: before, pausedAt, stateWhilePaused } = await pauseResumeCancel(catalog, TINY, 300);
    expect(String(error)).toMatch(/cancelled/);
    expect(pausedAt).toBeGreaterThan(0);
    expect(stateWhilePaused).toBe('paused');
    expect(run.state).toBe('cancelled');
    expect(before).toBeGreaterThanOrEqual(3);

    // the window goes (a crashed GPU process) two steps into the resumed run
    const lost = current.worker;
    const crashed = startTraining(catalog, {
      resume: true,
      checkpointEveryMs: 0,
      embed: false,
      onMetric: (m) => {
        if (m.step === before + 2) void lost.terminate();
      },
    });
    await expect(crashed.promise).rejects.toThrow(/^the stand-in GPU window stopped\. The last checkpoint is kept: resume the run to continue from it\.$/);
    expect(catalog.jobs.get(crashed.id)).toMatchObject({ state: 'failed' });
    expect(getRun(catalog.db, run.id)!.state).toBe('failed');
    const kept = listMetrics(catalog.db, run.id).length;
    expect(kept).toBeGreaterThanOrEqual(before + 2);

    // a new window; the run goes on from the last checkpoint, its curve without a gap
    current = standIn();
    const resumed = await train(catalog, { resume: true, maxSteps: 1, embed: false });
    expect(resumed.run).toBe(run.id);
    expect(resumed.backend).toMatch(/in a stand-in GPU window$/);
    const steps = listMetrics(catalog.db, run.id).map((m) => m.step);
    expect(steps.at(-1)).toBe(resumed.steps);
    expect(new Set(steps).size).toBe(resumed.steps);
  }, 120_000);

  it("embeds in the window with the worker's numbers, and draws attention there", async () => {
    const model = join(catalog.paths.models, `run-${lastRun(catalog.db)!.id}-teacher.safetensors`);
    const files = readdirSync(photos).flatMap((label) => readdirSync(join(photos, label)).map((f) => join(photos, label, f)));
    const items = [...files.slice(0, 5).map((path, i) => ({ id: i + 1, path })), { id: 99, path: join(dir, 'no-such-photo.jpg') }];
    const inWindow = await embedItems(model, items);
    process.env.DINO_BACKEND = 'wasm';
    const inWorker = await embedItems(model, items).finally(() => delete process.env.DINO_BACKEND);
    expect([...inWindow.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    for (const [id, v] of inWorker) expect([...inWindow.get(id)!]).toEqual([...v]);
    // the viewer's attention overlay: the window's maps are the worker's
    const modelId = modelDTOs(catalog)[0]!.id;
    const a = await attentionOf(catalog, modelId, files[0]!);
    setSetting(catalog.db, 'backend', 'cpu');
    const b = await attentionOf(catalog, modelId, files[0]!);
    setSetting(catalog.db, 'backend', 'auto');
    expect(a.heads.length).toBeGreaterThan(0);
    expect(a).toEqual(b);
  }, 120_000);
});
