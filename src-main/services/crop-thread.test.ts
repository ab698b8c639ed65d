/**
 * The crop worker: the crops it makes are exactly the training thread's for the same iteration, replies
 * reach the right request, and a run trained with it has the losses of one without.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../dino/runtime/node/backend';
import { cropIteration, type CropSpec } from '../dino/train/crops';
import { getPreset, withOverrides } from '../dino/train/presets';
import { Rng } from '../dino/rng';
import { multiCropConfig, trainDino, type SourceImage } from '../dino/train/trainer';
import { blasThreadsBesideCrops, coreSharing, threadCropper, type ThreadCropper } from './crop-thread';
import { nativeKernelsActive, setNativeThreads } from '../dino/runtime/node/native-kernels';

function photos(n: number): SourceImage[] {
  const r = new Rng(3);
  return Array.from({ length: n }, (_, id) => {
    const width = 40 + r.int(0, 24);
    const height = 32 + r.int(0, 24);
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = r.int(0, 256);
    return { id, rgb, width, height };
  });
}

const config = withOverrides(getPreset('cpu-tiny').config, {
  depth: 1, imgSize: 32, globalSize: 32, localSize: 16, nLocal: 2, batchSize: 8, accumSteps: 2,
  outDim: 64, hiddenDim: 32, bottleneckDim: 16, epochs: 2, dropPathRate: 0.1,
});
const spec: CropSpec = { crops: multiCropConfig(config), seed: 9, microSize: 4 };
const data = photos(16);

describe('threadCropper', () => {
  let cropper: ThreadCropper;
  beforeAll(async () => {
    await initBackend('wasm');
    cropper = threadCropper(spec);
  });
  afterAll(() => cropper.close());

  it('makes the same crops as the training thread, per iteration, with requests in flight together', async () => {
    const batch = data.slice(0, 8);
    const [a, b] = await Promise.all([cropper.make(batch, 5), cropper.make(batch, 6)]);
    expect(cropper.threaded).toBe(true);
    for (const [got, it] of [[a, 5], [b, 6]] as const) {
      const want = cropIteration(batch, spec, it);
      expect(got.map((p) => p.batch)).toEqual([4, 4]);
      for (let m = 0; m < want.length; m++) {
        expect(got[m]!.globals).toEqual(want[m]!.globals);
        expect(got[m]!.locals).toEqual(want[m]!.locals);
      }
    }
    // each iteration draws its own crops
    expect(a[0]!.globals).not.toEqual(b[0]!.globals);
  });

  it('sends images that are views into a larger buffer', async () => {
    const big = new Uint8Array(data[0]!.rgb.length + 100);
    big.set(data[0]!.rgb, 100);
    const view = { ...data[0]!, rgb: big.subarray(100) };
    const [got] = await cropper.make([view, ...data.slice(1, 4)], 2);
    expect(got!.globals).toEqual(cropIteration(data.slice(0, 4), { ...spec, microSize: 4 }, 2)[0]!.globals);
  });

  it('trains to the same losses as crops made on the training thread', async () => {
    const source = (epoch: number, skip: number): AsyncIterable<SourceImage> =>
      (async function* () {
        const order = new Rng(50 + epoch).permutation(data.length);
        for (let i = skip; i < order.length; i++) yield data[order[i]!]!;
      })();
    const croppers: ThreadCropper[] = [];
    const run = async (threaded: boolean): Promise<number[]> => {
      const losses: number[] = [];
      const r = await trainDino(config, source, { onStep: (m) => void losses.push(m.loss) }, {
        numImages: data.length,
        cropper: threaded ? (s) => croppers[croppers.push(threadCropper(s)) - 1]! : undefined,
      });
      r.dispose();
      return losses;
    };
    const inline = await run(false);
    const threaded = await run(true);
    expect(croppers).toHaveLength(1);
    expect(croppers[0]!.threaded).toBe(true);
    expect(inline).toHaveLength(4);
    expect(threaded).toEqual(inline);
  });

  it('goes on making the same crops on the calling thread when the worker dies', async () => {
    // a worker that exits at its first request, as a crash would
    const c = threadCropper(spec, new URL('./fixtures/crop-worker-dies.ts', import.meta.url));
    const inFlight = c.make(data.slice(0, 8), 3);
    expect((await inFlight)[1]!.locals).toEqual(cropIteration(data.slice(0, 8), spec, 3)[1]!.locals);
    expect(c.threaded).toBe(false);
    expect((await c.make(data.slice(0, 8), 1))[0]!.globals).toEqual(cropIteration(data.slice(0, 8), spec, 1)[0]!.globals);
    c.close();
  });

  it('rejects requests once closed', async () => {
    const c = threadCropper(spec);
    c.close();
    await expect(c.make(data.slice(0, 4), 0)).rejects.toThrow(/closed/);
  });
});

describe('sharing the cores between BLAS and the crop worker', () => {
  it('leaves the worker a core when its crops are more than a tenth of a step', () => {
    // cpu-narrow on 2 vCPUs: ~140 ms of crops in a ~540 ms step
    expect(blasThreadsBesideCrops(140, 540, 2)).toBe(1);
    expect(blasThreadsBesideCrops(140, 540, 16)).toBe(15);
    // ViT-S at 224 px: crops (by estimate) ~1 % of a step keep every thread
    expect(blasThreadsBesideCrops(600, 60_000, 2)).toBeNull();
    expect(blasThreadsBesideCrops(140, 540, 1)).toBeNull();
  });

  it('decides once, after the third step, and only with a working crop worker', async (ctx) => {
    await initBackend('wasm');
    // without the native kernels (or with the count fixed by hand) there is nothing to share
    if (!nativeKernelsActive() || process.env.DINO_BLAS_THREADS) ctx.skip();
    const before = nativeKernelsActive()!.threads;
    try {
      setNativeThreads(2);
      const worker = { threaded: true, cropMs: 200 } as ThreadCropper;
      const share = coreSharing(2);
      expect([share(worker, 500), share(worker, 500)]).toEqual([null, null]);
      expect(share(worker, 500)).toBe(1);
      expect(nativeKernelsActive()!.threads).toBe(1);
      expect(share(worker, 500)).toBeNull();
      setNativeThreads(2);
      const dead = coreSharing(2);
      for (let i = 0; i < 4; i++) expect(dead({ threaded: false, cropMs: 200 } as ThreadCropper, 500)).toBeNull();
      expect(nativeKernelsActive()!.threads).toBe(2);
    } finally {
      setNativeThreads(before);
    }
  });
});
