/**
 * npm run profile:train [-- --path wasm|native|all] [--steps N] [--preset NAME] [--set key=value ...] [--top N]
 *
 * Profiles one DINO training step (default: the issue-9 reference, ViT-Tiny/16, batch 16,
 * 2 x 96 + 6 x 48 crops, K 4096) on each available CPU path: time per phase (data = multi-crop
 * augmentation of the batch, teacher forward, student forward, student backward, optimizer, the rest)
 * and per kernel, plus memory (peak RSS, wasm heap, tfjs bytes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { parseSetPairs } from '../src-main/cli/command';
import { initBackend } from '../src-main/dino/runtime/node/backend';
import { KernelProfiler, summarize } from '../src-main/dino/runtime/kernel-profile';
import { multiCropForward } from '../src-main/dino/model/net';
import { installNativeKernels, uninstallNativeKernels } from '../src-main/dino/runtime/node/native-kernels';
import { getPreset, withOverrides, type DinoConfig } from '../src-main/dino/train/presets';
import { Rng } from '../src-main/dino/rng';
import { dinoStep, disposeState } from '../src-main/dino/train/step';
import { createTrainState, makeBatch, multiCropConfig } from '../src-main/dino/train/trainer';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: 'all' },
    steps: { type: 'string', default: '2' },
    preset: { type: 'string' },
    top: { type: 'string', default: '12' },
    set: { type: 'string', multiple: true },
  },
});

function config(): DinoConfig {
  const base = values.preset ? getPreset(values.preset).config : withOverrides(getPreset('cpu-tiny').config, { hiddenDim: 2048 });
  return withOverrides(base, parseSetPairs(values.set ?? []));
}

function syntheticPhoto(rng: Rng): { rgb: Uint8Array; width: number; height: number } {
  const width = 256;
  const height = 192;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(rng.next() * 256);
  return { rgb, width, height };
}

const fmt = (ms: number) => `${ms.toFixed(0).padStart(7)} ms`;

async function profilePath(label: string, c: DinoConfig, steps: number, top: number): Promise<void> {
  const prof = new KernelProfiler('wasm');
  const state = createTrainState(c);
  const rng = new Rng(3);
  const photos = Array.from({ length: c.batchSize }, () => syntheticPhoto(rng));
  const origStep = state.optimizer.step.bind(state.optimizer);
  state.optimizer.step = (g, lr, wd) => prof.phase('optimizer (AdamW)', () => origStep(g, lr, wd));
  const hyper = { nCrops: 2 + c.nLocal, studentTemp: c.studentTemp, centerMomentum: c.centerMomentum, clipGrad: c.clipGrad, freezeLastLayer: c.freezeLastLayer };
  let dataMs = 0;
  let stepMs = 0;
  let teacherMs = 0;
  prof.start();
  try {
    for (let i = 0; i <= steps; i++) {
      if (i === 1) prof.reset(); // step 0 warms up
      const t0 = performance.now();
      const batch = makeBatch(photos, multiCropConfig(c), c.seed, i);
      const t1 = performance.now();
      await dinoStep(
        state,
        { globals: batch.globals, locals: batch.locals, epoch: 1, lr: 1e-4, wd: 0.04, momentum: 0.996, teacherTemp: c.teacherTemp },
        hyper,
      );
      const t2 = performance.now();
      // the teacher's forward again, alone, to split it from the rest of the work outside the tape
      const t3 = performance.now();
      prof.phase('teacher forward (timed apart)', () => tf.tidy(() => multiCropForward(state.teacher, [batch.globals], { perBlockTidy: true })).dispose());
      const t4 = performance.now();
      batch.globals.dispose();
      batch.locals?.dispose();
      if (i > 0) {
        dataMs += t1 - t0;
        stepMs += t2 - t1;
        teacherMs += t4 - t3;
      }
    }
  } finally {
    prof.stop();
    disposeState(state);
  }
  const stats = prof.results().map((s) => ({ ...s, ms: s.ms / steps }));
  const { phases, kernels } = summarize(stats);
  const teacherKernels = phases.get('teacher forward (timed apart)') ?? 0;
  const outside = phases.get('other') ?? 0;
  let kernelSum = 0;
  for (const [p, ms] of phases) if (!p.startsWith('teacher forward')) kernelSum += ms;
  const step = stepMs / steps;
  console.log(`\n== ${label}: ${fmt(step)} per step (+ data ${fmt(dataMs / steps)}), teacher forward alone ${fmt(teacherMs / steps)}`);
  console.log('phase (kernel time per step):');
  console.log(`  data: multi-crop augmentation (JS)   ${fmt(dataMs / steps)}`);
  console.log(`  teacher forward                      ${fmt(teacherKernels)}`);
  for (const p of ['student forward', 'student backward', 'optimizer (AdamW)']) console.log(`  ${p.padEnd(37)}${fmt(phases.get(p) ?? 0)}`);
  console.log(`  loss, clipping, EMA, centre          ${fmt(Math.max(0, outside - teacherKernels))}`);
  console.log(`  JS / engine overhead (not kernels)   ${fmt(Math.max(0, step - kernelSum))}`);
  console.log(`kernels (all phases of the step, top ${top}):`);
  const ks = [...kernels].filter(([k]) => k).sort((a, b) => b[1] - a[1]);
  const stepKernels = stats.filter((s) => !s.phase.startsWith('teacher forward'));
  for (const [k] of ks.slice(0, top)) {
    const rows = stepKernels.filter((s) => s.kernel === k);
    const ms = rows.reduce((a, s) => a + s.ms, 0);
    const calls = rows.reduce((a, s) => a + s.calls, 0) / steps;
    const by = rows.map((s) => `${s.phase.replace('student ', '')} ${s.ms.toFixed(0)}`).join(', ');
    console.log(`  ${k.padEnd(22)}${fmt(ms)}  ${String(Math.round(calls)).padStart(5)} calls  (${by})`);
  }
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? 0;
  console.log(
    `memory: peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, wasm heap ${(heap / 2 ** 20).toFixed(0)} MB, tfjs tensors ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MB`,
  );
}

const info = await initBackend('wasm');
const c = config();
const steps = Math.max(1, Number(values.steps));
const top = Number(values.top);
console.log(`backend: ${info.description}; batch ${c.batchSize}, ${c.arch}/${c.patchSize}, 2 x ${c.globalSize} + ${c.nLocal} x ${c.localSize}, K ${c.outDim}`);
const path = values.path;
if (path === 'wasm' || path === 'all') {
  uninstallNativeKernels();
  await profilePath('wasm alone', c, steps, top);
}
if (path === 'native' || path === 'all') {
  const n = installNativeKernels();
  if (n) await profilePath(`wasm + native BLAS (${n.library}, ${n.threads} threads)`, c, steps, top);
  else console.log('\nnative BLAS unavailable (npm run build:native): skipped');
}
