/**
 * The Electron GPU window's page (out/renderer/gpu/index.html) in Debian's Chromium with WebGPU on
 * SwiftShader, driven through the same job ports and the same main-process code the app uses (the
 * services train and embed through the GPU window exactly as in Electron; only the port's transport is
 * Playwright's here). Its training and embeddings match the Node workers' on wasm; pause, resume,
 * cancel and resume-from-checkpoint behave as in the workers; a crashed page fails its job with a
 * message and the run resumes from its last checkpoint in a new page.
 */
import { chromium, expect, test, type Browser } from '@playwright/test';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config';
import type { GpuAdapterSummary } from '../src-main/dino/runtime/gpu-adapter';
import { lastRun, listMetrics } from '../src-main/db/repos/training';
import { openCatalog, type Catalog } from '../src-main/services/catalog';
import { embedItems } from '../src-main/services/embedder';
import { provideGpuWindow } from '../src-main/services/gpu-window';
import { startImport } from '../src-main/services/importer';
import { runJob } from '../src-main/services/job-channel';
import { pauseResumeCancel, TINY } from '../src-main/services/fixtures/train-scenario';
import { startTraining, train } from '../src-main/services/trainer';
import { repoRoot } from './electron';
import { gpuPageChannels, serveRenderer } from './gpu-page';


test.describe.configure({ timeout: 180_000 });

test('the GPU page trains and embeds on WebGPU as the workers do on wasm; pause, resume, cancel, a crash and resume from the checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-gpu-page-'));
  const server = await serveRenderer();
  let browser: Browser | undefined;
  let catalog: Catalog | undefined;
  const backendBefore = process.env.DINO_BACKEND;
  try {
    const t0 = Date.now();
    const lap = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
    });
    const pageErrors: string[] = [];
    const gpuPage = async () => {
      const p = await browser!.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.message));
      p.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
      await p.goto(`${server.url}/gpu/index.html`);
      return p;
    };
    const page = await gpuPage();
    const openJob = await gpuPageChannels(page);

    // the adapter, as the app asks for it before it uses the window
    const probe = openJob();
    probe.post({ type: 'start', kind: 'adapter', data: null });
    const found = await runJob<never, { adapter: GpuAdapterSummary } | { none: string }>(probe, undefined, () => undefined);
    expect(found, JSON.stringify(found)).toHaveProperty('adapter');
    const adapter = (found as { adapter: GpuAdapterSummary }).adapter;
    expect(adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', api: 'Vulkan', software: true });
    provideGpuWindow(async () => ({ adapter, openJob }));
    lap('adapter');

    const photos = join(dir, 'photos');
    const caltech = join(repoRoot, 'resources', 'sample-photos', 'caltech-101');
    for (const label of readdirSync(caltech).slice(0, 4)) cpSync(join(caltech, label), join(photos, label), { recursive: true });
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [photos]).promise;
    lap('import');

    // the reference: the Node training worker on wasm, as many steps as the runs below take
    process.env.DINO_BACKEND = 'wasm';
    const wasm: number[] = [];
    const ref = await train(catalog, { preset: 'cpu-patch8', overrides: TINY, maxSteps: 8, embed: false, onMetric: (m) => wasm.push(m.loss) });
    expect(ref.backend).toMatch(/^wasm/);
    lap('wasm reference');

    // the same run in the GPU page, paused at step 1 for 2.5 s, resumed, cancelled at step 3
    process.env.DINO_BACKEND = 'webgpu';
    const { error, run, losses: gpu, times, pausedAt, resumedAt, stateWhilePaused } = await pauseResumeCancel(catalog, TINY, 2500);
    lap('GPU page run, paused, resumed and cancelled');
    console.log(`metrics at ${times.map((t) => (t - pausedAt).toFixed(0)).join(', ')} ms from the pause; resumed at ${(resumedAt - pausedAt).toFixed(0)}`);
    expect(String(error)).toMatch(/cancelled/);
    expect(stateWhilePaused).toBe('paused');
    // while paused, at most the step already queued reports (one behind on WebGPU); then it goes on
    expect(times.filter((t) => t > pausedAt && t < resumedAt).length).toBeLessThanOrEqual(1);
    expect(times.filter((t) => t > resumedAt).length).toBeGreaterThanOrEqual(1);
    expect(run.state).toBe('cancelled');
    expect(run.checkpoint).toMatch(/\.state\.safetensors$/);
    expect(JSON.parse(run.config).backend).toMatch(/^webgpu \(google swiftshader.* in the GPU window$/);
    // each step's loss by step: a resumed run repeats the steps after its last checkpoint
    const cancelledAt = listMetrics(catalog.db, run.id).length;
    expect(cancelledAt).toBeGreaterThanOrEqual(3);

    // the page's renderer crashes two steps into the resumed run: the job fails and says so
    const cdp = await page.context().newCDPSession(page);
    const crashing = startTraining(catalog, {
      resume: true,
      checkpointEveryMs: 0,
      embed: false,
      onMetric: (m) => {
        gpu.set(m.step, m.loss);
        if (m.step === cancelledAt + 2) void cdp.send('Page.crash').catch(() => undefined);
      },
    });
    await expect(crashing.promise).rejects.toThrow('the GPU page crashed. The last checkpoint is kept: resume the run to continue from it.');
    expect(lastRun(catalog.db)!.state).toBe('failed');
    lap('GPU page crashed');

    // a new page; the run resumes from its last checkpoint
    const openAgain = await gpuPageChannels(await gpuPage());
    provideGpuWindow(async () => ({ adapter, openJob: openAgain }));
    const resumed = await train(catalog, { resume: true, maxSteps: 1, embed: false, onMetric: (m) => gpu.set(m.step, m.loss) });
    lap('GPU page resumed the run');
    expect(resumed.run).toBe(run.id);
    expect(resumed.backend).toMatch(/in the GPU window$/);
    expect(resumed.steps).toBeGreaterThan(cancelledAt);
    // every step from the first, each as wasm's (the crashed run may have reported a step past its last checkpoint)
    const steps = [...gpu.keys()].sort((a, b) => a - b);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(steps.length).toBeGreaterThanOrEqual(resumed.steps);
    expect(steps.length).toBeLessThanOrEqual(wasm.length);
    const worst = Math.max(...steps.map((s) => Math.abs(gpu.get(s)! - wasm[s - 1]!)));
    console.log(`losses: wasm ${wasm.map((l) => l.toFixed(6)).join(', ')}; GPU page ${steps.map((s) => gpu.get(s)!.toFixed(6)).join(', ')}; max |difference| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);

    // 4 photos embedded with the run's teacher: the GPU page against the embedding worker on wasm
    const model = join(catalog.paths.models, `run-${run.id}-teacher.safetensors`);
    const files = readdirSync(photos).flatMap((label) => readdirSync(join(photos, label)).map((f) => join(photos, label, f)));
    const items = files.slice(0, 4).map((path, i) => ({ id: i + 1, path }));
    const onGpu = await embedItems(model, items);
    process.env.DINO_BACKEND = 'wasm';
    const onWasm = await embedItems(model, items);
    lap('embeddings');
    let worstEmbed = 0;
    for (const { id } of items) {
      expect(onGpu.get(id)).toHaveLength(onWasm.get(id)!.length);
      onWasm.get(id)!.forEach((x, j) => (worstEmbed = Math.max(worstEmbed, Math.abs(x - onGpu.get(id)![j]!))));
    }
    console.log(`embeddings of ${items.length} photos: max |difference| ${worstEmbed.toExponential(2)}`);
    expect(worstEmbed).toBeLessThan(1e-4);
    expect(pageErrors).toEqual([]);
  } finally {
    if (backendBefore === undefined) delete process.env.DINO_BACKEND;
    else process.env.DINO_BACKEND = backendBefore;
    provideGpuWindow(null);
    await catalog?.close();
    await browser?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
