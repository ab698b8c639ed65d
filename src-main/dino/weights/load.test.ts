/**
 * Reading every accepted weights format from the committed fixtures (made by
 * scripts/fixtures/make_weights_fixtures.py with PyTorch): values against the checksums PyTorch
 * recorded, architecture inference, name mapping, and the refusals (truncated, random bytes,
 * wrong architecture).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDinoWeights } from './load';
import { openPth, findStateDicts, readPthTensors } from './pth-reader';
import { WeightsFormatError, type HostTensor } from './tensor-map';
import { ZipFile } from './zip-file';

const FX = join(import.meta.dirname, 'fixtures');
const fx = (f: string) => join(FX, f);
interface Check {
  shape: number[];
  sum: number;
  sumsq: number;
  first: number[];
}
const manifest = JSON.parse(readFileSync(fx('manifest.json'), 'utf8')) as {
  models: Record<string, { patch: number; img: number; tensors: Record<string, Check> }>;
  head: { out_dim: number; hidden_dim: number; bottleneck_dim: number };
};
const tmp = mkdtempSync(join(tmpdir(), 'dino-weights-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectMatches(name: string, t: HostTensor | undefined, c: Check) {
  expect(t, name).toBeDefined();
  expect(t!.shape, name).toEqual(c.shape);
  let sum = 0;
  let sumsq = 0;
  for (const x of t!.data) {
    sum += x;
    sumsq += x * x;
  }
  // the values are exactly those PyTorch saved: sums agree to float64 rounding
  expect(sum, name).toBeCloseTo(c.sum, 6);
  expect(sumsq, name).toBeCloseTo(c.sumsq, 6);
  expect([...t!.data.slice(0, c.first.length)], name).toEqual(c.first);
}

describe('official layouts', () => {
  it('reads the full training checkpoint: teacher by default, architecture and head inferred', () => {
    const w = loadDinoWeights(fx('vit_p16_full_checkpoint.pth'));
    expect(w.format).toBe('pth');
    expect(w.layout).toBe('full-checkpoint');
    expect(w.part).toBe('teacher');
    expect(w.arch).toMatchObject({ arch: 'custom', embedDim: 48, depth: 2, numHeads: 3, patchSize: 16, imgSize: 64, mlpHidden: 192, qkvBias: true });
    expect(w.arch.head).toEqual({ outDim: 24, hiddenDim: 32, bottleneckDim: 16, nlayers: 3 });
    const want = manifest.models.p16!.tensors;
    expect([...w.tensors.keys()].sort()).toEqual(Object.keys(want).sort());
    for (const [k, c] of Object.entries(want)) expectMatches(k, w.tensors.get(k), c);
    // the training metadata comes back as plain data (argparse.Namespace and a numpy float64 included)
    expect(w.meta.epoch).toBe(3);
    expect(w.meta.args).toMatchObject({ arch: 'vit_tiny', patch_size: 16, out_dim: 24, momentum_teacher: 0.996, global_crops_scale: [0.4, 1] });
    expect(w.meta.normLastLayer).toBe(false);
  });

  it('reads the student on request; it differs from the teacher where the fixture made it differ', () => {
    const s = loadDinoWeights(fx('vit_p16_full_checkpoint.pth'), { part: 'student' });
    const t = loadDinoWeights(fx('vit_p16_full_checkpoint.pth'));
    expect(s.part).toBe('student');
    for (const k of t.tensors.keys()) {
      const same = [...s.tensors.get(k)!.data].every((x, i) => x === t.tensors.get(k)!.data[i]);
      expect(same, k).toBe(!['norm.weight', 'norm.bias', 'head.last_layer.weight_v'].includes(k));
    }
    expect(() => loadDinoWeights(fx('vit_p16_full_checkpoint.pth'), { part: 'teacher' })).not.toThrow();
  });

  it('reads the backbone-only .pth (float16 storages, a strided and an offset tensor)', () => {
    const w = loadDinoWeights(fx('vit_p8_pretrain.pth'));
    expect(w.layout).toBe('official');
    expect(w.arch).toMatchObject({ embedDim: 48, depth: 2, numHeads: 3, patchSize: 8, imgSize: 32 });
    expect(w.arch.head).toBeUndefined();
    for (const [k, c] of Object.entries(manifest.models.p8!.tensors)) {
      if (!k.startsWith('head.')) expectMatches(k, w.tensors.get(k), c);
    }
    // and the raw reader sees the view as torch stored it
    const f = openPth(fx('vit_p8_pretrain.pth'));
    const refs = findStateDicts(f.root).get('')!;
    expect(refs.get('blocks.0.mlp.fc1.weight')!.stride).toEqual([1, 192]);
    expect(refs.get('pos_embed')!.offset).toBe(17 * 48);
    expect(refs.get('pos_embed')!.dtype).toBe('float16');
    f.close();
  });

  it('reads official names from .safetensors (float16) with the head', () => {
    const w = loadDinoWeights(fx('vit_p8_pretrain.safetensors'));
    expect(w.format).toBe('safetensors');
    expect(w.arch.head).toEqual({ outDim: 24, hiddenDim: 32, bottleneckDim: 16, nlayers: 3 });
    for (const [k, c] of Object.entries(manifest.models.p8!.tensors)) expectMatches(k, w.tensors.get(k), c);
  });
});

describe('legacy torch.save format (before PyTorch 1.6)', () => {
  it('reads it, including a tensor at a storage offset', () => {
    const w = loadDinoWeights(fx('legacy_vit_tiny.pth'));
    expect(w.format).toBe('pth');
    expect(w.arch).toMatchObject({ embedDim: 16, depth: 1, patchSize: 4, imgSize: 8 });
    for (const [k, c] of Object.entries(manifest.models.legacy!.tensors)) expectMatches(k, w.tensors.get(k), c);
  });

  it('says when it is cut', () => {
    const bytes = readFileSync(fx('legacy_vit_tiny.pth'));
    for (const keep of [0.9, 0.3, 0.01]) {
      const p = join(tmp, `legacy-cut-${keep}.pth`);
      writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * keep)));
      expect(() => loadDinoWeights(p), `cut at ${keep}`).toThrow(/truncated/);
    }
  });
});

describe('Hugging Face layouts', () => {
  const p8 = manifest.models.p8!.tensors;
  const depth1 = Object.keys(p8).filter((k) => !k.startsWith('head.') && !/^blocks\.[1-9]/.test(k));

  it.each(['vit_p8_hf.safetensors', 'vit_p8_hf_pytorch_model.bin'])('%s maps to official names, q/k/v stacked into qkv', (file) => {
    const w = loadDinoWeights(fx(file));
    expect(w.layout).toBe('hf');
    expect(w.arch).toMatchObject({ embedDim: 48, depth: 1, patchSize: 8, imgSize: 32 });
    expect([...w.tensors.keys()].sort()).toEqual(depth1.sort());
    for (const k of depth1) expectMatches(k, w.tensors.get(k), p8[k]!);
    // the pooler of ViTModel is not DINO: reported, not loaded
    expect(w.ignored.map((k) => k.replace(/^vit\./, '')).sort()).toEqual(['pooler.dense.bias', 'pooler.dense.weight']);
  });
});

describe('refusals', () => {
  it('a wrong architecture names what it found', () => {
    expect(() => loadDinoWeights(fx('tiny_resnet.pth'))).toThrow(/found 20 tensors like conv1\.weight, bn1\.weight, .*not a DINO ViT \(it looks like a ResNet/);
    expect(() => loadDinoWeights(fx('expected.safetensors'))).toThrow(/found 18 tensors like p16\.64x64\.cls.*not a DINO ViT/);
    // reading the raw tensors still works: the refusal is about what they are, not the file
    expect(readPthTensors(fx('tiny_resnet.pth')).get('bn1.num_batches_tracked')!.data[0]).toBe(7);
  });

  it('an incomplete ViT names the missing tensors', async () => {
    const { writePth } = await import('./pth-writer');
    const w = loadDinoWeights(fx('vit_p8_pretrain.pth'));
    w.tensors.delete('blocks.1.attn.proj.weight');
    const p = join(tmp, 'incomplete.pth');
    writePth(p, w.tensors);
    expect(() => loadDinoWeights(p)).toThrow(/missing 1 tensor \(blocks\.1\.attn\.proj\.weight\)/);
  });

  it('a truncated .pth, .safetensors or zip directory is called truncated', () => {
    for (const [file, keep] of [['vit_p8_pretrain.pth', 0.6], ['vit_p8_pretrain.pth', 0.02], ['vit_p8_pretrain.safetensors', 0.5], ['vit_p8_pretrain.safetensors', 0.001]] as const) {
      const bytes = readFileSync(fx(file));
      const p = join(tmp, `cut-${keep}-${file}`);
      writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * keep)));
      expect(() => loadDinoWeights(p), `${file} cut at ${keep}`).toThrow(/truncated/);
    }
  });

  it('a damaged storage fails its CRC-32 check; a re-zipped (deflated) checkpoint still reads', () => {
    const src = fx('vit_p8_pretrain.pth');
    const zip = ZipFile.open(src);
    const files: Record<string, Uint8Array> = {};
    for (const name of zip.entries.keys()) files[name] = zip.read(name);
    const e = zip.entries.get('vit_p8_pretrain/data/3')!;
    zip.close();
    const deflated = join(tmp, 'deflated.pth');
    writeFileSync(deflated, zipSync(files, { level: 6 }));
    const a = loadDinoWeights(src).tensors;
    const b = loadDinoWeights(deflated).tensors;
    for (const [k, t] of a) expect([...b.get(k)!.data], k).toEqual([...t.data]);
    const bytes = Buffer.from(readFileSync(src));
    const at = e.localHeaderOffset + 30 + bytes.readUInt16LE(e.localHeaderOffset + 26) + bytes.readUInt16LE(e.localHeaderOffset + 28) + 10;
    bytes[at]! ^= 0x40;
    const damaged = join(tmp, 'damaged.pth');
    writeFileSync(damaged, bytes);
    expect(() => loadDinoWeights(damaged)).toThrow(/vit_p8_pretrain\/data\/3 is corrupt \(CRC-32 mismatch\)/);
  });

  it('randomly damaged files fail with a WeightsFormatError, never another kind of error', () => {
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let refused = 0;
    for (const file of ['vit_p8_hf_pytorch_model.bin', 'legacy_vit_tiny.pth', 'vit_p8_hf.safetensors']) {
      const orig = readFileSync(fx(file));
      for (let n = 0; n < 60; n++) {
        const b = Buffer.from(orig);
        // most damage where the structure is: pickle, headers, zip directory
        for (let j = 0; j < 3; j++) b[rnd() < 0.5 ? Math.floor(rnd() * 4000) : b.length - 1 - Math.floor(rnd() * 3000)] = Math.floor(rnd() * 256);
        const p = join(tmp, `fuzz-${file}`);
        writeFileSync(p, b);
        try {
          loadDinoWeights(p);
        } catch (err) {
          expect(err, `${file} #${n}: ${(err as Error).message}`).toBeInstanceOf(WeightsFormatError);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(60);
  });

  it('random bytes and an empty file are not mistaken for weights', () => {
    const rnd = join(tmp, 'random.bin');
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(rnd, bytes);
    expect(() => loadDinoWeights(rnd)).toThrow(/random\.bin: not a PyTorch checkpoint \(\.pth\/\.bin zip\) or a \.safetensors file/);
    const zipish = join(tmp, 'zipish.pth');
    writeFileSync(zipish, Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), Buffer.from(bytes)]));
    expect(() => loadDinoWeights(zipish)).toThrow(/truncated|not a zip/);
    const empty = join(tmp, 'empty.pth');
    writeFileSync(empty, '');
    expect(() => loadDinoWeights(empty)).toThrow(/empty/);
  });
});
