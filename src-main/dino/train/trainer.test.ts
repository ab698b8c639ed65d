/**
 * The training loop on a tiny ViT with synthetic photos: no tensor leak, the student learns to match
 * the teacher, a stopped run resumes from its checkpoint exactly, collapse is detected, embeddings
 * are unit vectors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../runtime/node/backend';
import { attentionMaps, embedImages } from '../embed';
import { getPreset, withOverrides } from './presets';
import { Rng } from '../rng';
import type { SafetensorsContent } from '../weights/safetensors';
import { decodeSafetensors, encodeSafetensors } from '../weights/safetensors';
import { trainDino, type SourceImage } from './trainer';
import { CollapseWatch, type StepMetrics } from './step-metrics';

function photos(n: number): SourceImage[] {
  const r = new Rng(7);
  return Array.from({ length: n }, (_, id) => {
    const w = 48;
    const h = 40;
    const rgb = new Uint8Array(w * h * 3);
    const c1 = [r.int(0, 256), r.int(0, 256), r.int(0, 256)];
    const c2 = [r.int(0, 256), r.int(0, 256), r.int(0, 256)];
    const split = r.int(8, 40);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < 3; k++) rgb[(y * w + x) * 3 + k] = Math.min(255, Math.max(0, (x < split ? c1[k]! : c2[k]!) + r.int(-20, 20)));
      }
    }
    return { id, rgb, width: w, height: h };
  });
}

const tiny = withOverrides(getPreset('cpu-tiny').config, {
  depth: 1,
  imgSize: 32,
  globalSize: 32,
  localSize: 16,
  nLocal: 2,
  batchSize: 8,
  outDim: 256,
  hiddenDim: 128,
  bottleneckDim: 64,
  epochs: 10,
  warmupEpochs: 1,
  lr: 0.05,
  momentumTeacher: 0.99,
});

const data = photos(64);
function source(epoch: number, skip: number): AsyncIterable<SourceImage> {
  return (async function* () {
    // a fixed per-epoch order, so a resumed run sees what the original run saw
    const order = new Rng(100 + epoch).permutation(data.length);
    for (let i = skip; i < order.length; i++) yield data[order[i]!]!;
  })();
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('trainDino', () => {
  it('keeps the tensor count flat over 20 steps, and the student approaches the teacher', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const metrics: StepMetrics[] = [];
    const rss: number[] = [];
    const res = await trainDino(
      { ...tiny, freezeLastLayer: 0 },
      source,
      {
        onStep: (m) => {
          metrics.push(m);
          counts.push(tf.memory().numTensors);
          rss.push(process.memoryUsage().rss);
        },
      },
      { numImages: data.length, maxSteps: 40 },
    );
    res.dispose();
    // the position-embedding interpolation matrix for 16 px crops is a cached constant
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(rss.at(-1)! - rss[5]!).toBeLessThan(64 * 2 ** 20);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const klFirst = mean(metrics.slice(0, 5).map((m) => m.klTeacherStudent));
    const klLast = mean(metrics.slice(-5).map((m) => m.klTeacherStudent));
    console.log(`KL(teacher||student) first 5 steps ${klFirst.toFixed(3)}, last 5 ${klLast.toFixed(3)}; loss ${metrics[0]!.loss.toFixed(3)} -> ${metrics.at(-1)!.loss.toFixed(3)}`);
    expect(klLast).toBeLessThan(0.7 * klFirst);
    const m = metrics.at(-1)!;
    expect(m.step).toBe(40);
    expect(m.totalSteps).toBe(80);
    expect(m.lr).toBeGreaterThan(0);
    expect(m.dataWaitFraction).toBeGreaterThan(0);
    expect(m.dataWaitFraction).toBeLessThan(1);
  });

  it('resumes from a checkpoint with the same losses as an uninterrupted run', async () => {
    const straight: number[] = [];
    const a = await trainDino(tiny, source, { onStep: (m) => void straight.push(m.loss) }, { numImages: data.length, maxSteps: 12 });
    a.dispose();

    const first: number[] = [];
    let saved: SafetensorsContent | null = null;
    const b = await trainDino(
      tiny,
      source,
      {
        onStep: (m) => void first.push(m.loss),
        // through bytes, as a file would
        checkpoint: (ck) => void (saved = decodeSafetensors(encodeSafetensors(ck.tensors, ck.metadata))),
      },
      { numImages: data.length, maxSteps: 5 },
    );
    b.dispose();
    expect(saved).not.toBeNull();
    const rest: number[] = [];
    const c = await trainDino(tiny, source, { onStep: (m) => void rest.push(m.loss) }, { numImages: data.length, maxSteps: 7, resume: saved! });
    expect(c.it).toBe(12);
    c.dispose();
    const resumed = [...first, ...rest];
    expect(resumed).toHaveLength(12);
    for (let i = 0; i < 12; i++) expect(resumed[i]).toBeCloseTo(straight[i]!, 5);
  });

  it('ends a short epoch where the schedules expect it and goes on with the next', async () => {
    const short = (epoch: number, skip: number): AsyncIterable<SourceImage> =>
      (async function* () {
        // epoch 0 has photos for 2 of its 8 batches (and a partial third, dropped)
        const n = epoch === 0 ? 20 : data.length;
        for (let i = skip; i < n; i++) yield data[i]!;
      })();
    const steps: StepMetrics[] = [];
    const r = await trainDino(tiny, short, { onStep: (m) => void steps.push(m) }, { numImages: data.length, maxSteps: 4 });
    r.dispose();
    expect(steps.map((m) => [m.epoch, m.step])).toEqual([[0, 1], [0, 2], [1, 9], [1, 10]]);
    // the lr of iteration 8 (step 9), not of iteration 2
    expect(steps[2]!.lr).toBeGreaterThan(steps[1]!.lr);
    expect(r.it).toBe(10);
  });

  it('accumulates gradients over micro-batches: the losses of one batch, a flat tensor count', async () => {
    const straight: number[] = [];
    const a = await trainDino({ ...tiny, freezeLastLayer: 0 }, source, { onStep: (m) => void straight.push(m.loss) }, { numImages: data.length, maxSteps: 6 });
    a.dispose();
    const accumulated: number[] = [];
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const b = await trainDino(
      { ...tiny, freezeLastLayer: 0, accumSteps: 4 },
      source,
      {
        onStep: (m) => {
          accumulated.push(m.loss);
          counts.push(tf.memory().numTensors);
          expect(m.totalSteps).toBe(80);
        },
      },
      { numImages: data.length, maxSteps: 6 },
    );
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(counts.slice(1)).size).toBe(1);
    // same crops (drawn image by image either way), same schedules: the same run up to rounding
    for (let i = 0; i < 6; i++) expect(Math.abs(accumulated[i]! - straight[i]!)).toBeLessThan(1e-4 * straight[i]!);
  });

  it('fine-tunes with frozen blocks: the frozen part keeps its values', async () => {
    const frozenStart = new Map<string, tf.TypedArray>();
    const res = await trainDino(
      { ...tiny, depth: 2, freezeBlocks: 1 },
      source,
      {},
      {
        numImages: data.length,
        maxSteps: 3,
        init: (state) => {
          for (const [n, v] of state.student.params) if (n.startsWith('blocks.0.') || n === 'pos_embed') frozenStart.set(n, v.dataSync().slice());
        },
      },
    );
    expect(frozenStart.size).toBe(13);
    for (const [n, was] of frozenStart) expect(res.state.student.params.get(n)!.dataSync(), n).toEqual(was);
    expect([...res.state.optimizer.state.keys()].some((n) => n.startsWith('blocks.0.') || n.startsWith('patch_embed'))).toBe(false);
    expect(res.state.optimizer.state.has('blocks.1.attn.qkv.weight')).toBe(true);
    res.dispose();
    await expect(trainDino({ ...tiny, accumSteps: 3 }, source, {}, { numImages: data.length })).rejects.toThrow(/accumSteps/);
    await expect(trainDino({ ...tiny, freezeBlocks: 2 }, source, {}, { numImages: data.length })).rejects.toThrow(/freezeBlocks/);
    await expect(trainDino({ ...tiny, grayscaleProb: 1.5 }, source, {}, { numImages: data.length })).rejects.toThrow(/grayscaleProb/);
  });

  it('stops on abort and leaves a checkpoint', async () => {
    const ctl = new AbortController();
    let saved = 0;
    await expect(
      trainDino(
        tiny,
        source,
        { signal: ctl.signal, onStep: (m) => void (m.step === 2 && ctl.abort()), checkpoint: () => void saved++ },
        { numImages: data.length },
      ),
    ).rejects.toThrow(/cancelled/);
    expect(saved).toBe(1);
  });

  it('flags collapse after a window of steps', () => {
    const k = 1024;
    const w = new CollapseWatch(k, 3);
    expect([w.update(Math.log(k)), w.update(Math.log(k)), w.update(0.99 * Math.log(k))]).toEqual([null, null, 'uniform']);
    expect(w.update(3)).toBeNull();
    expect([w.update(0.01), w.update(0.01), w.update(0.01)]).toEqual([null, null, 'one-prototype']);
  });

  it('embeds photos as unit vectors and gives attention maps, without leaking', async () => {
    const res = await trainDino(tiny, source, {}, { numImages: data.length, maxSteps: 1 });
    const before = tf.memory().numTensors;
    const e = await embedImages(res.state.teacher, data.slice(0, 5), { size: 32, batchSize: 2 });
    expect(e).toHaveLength(5);
    for (const v of e) {
      expect(v.length).toBe(192);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
    const maps = await attentionMaps(res.state.teacher, data[0]!, 32);
    expect(maps.grid).toBe(2);
    expect(maps.heads).toHaveLength(3);
    for (const h of maps.heads) expect(h.reduce((a, b) => a + b, 0)).toBeLessThan(1);
    expect(tf.memory().numTensors).toBe(before);
    res.dispose();
  });
});
