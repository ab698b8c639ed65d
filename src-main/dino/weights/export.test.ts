/**
 * Writing: the .pth writer's output read back by our reader equals what was written, and exports
 * under every layout load back as the same weights. (That PyTorch loads them with strict=True and
 * gives the same embeddings is checked by scripts/fixtures/check_export_roundtrip.py, which needs
 * Python: see the README of fixtures/.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportWeights } from './export';
import { loadDinoWeights } from './load';
import { findStateDicts, openPth, readPthTensors } from './pth-reader';
import { writePth, type PthValue } from './pth-writer';
import { ZipFile } from './zip-file';
import type { TensorMap } from './tensor-map';

const FX = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'dino-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectSameTensors(a: TensorMap, b: TensorMap) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, t] of a) {
    expect(b.get(k)!.shape, k).toEqual(t.shape);
    expect(Buffer.from(b.get(k)!.data.buffer, b.get(k)!.data.byteOffset, b.get(k)!.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
  }
}

describe('pth writer', () => {
  it('round-trips tensors of any rank and nested plain values through our reader', () => {
    const t = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 1e3) });
    const sd: TensorMap = new Map([['s', t([])], ['v', t([5])], ['m', t([3, 4])], ['x', t([2, 3, 4, 5])], ['big', t([300, 7])]]);
    const root = new Map<string, PthValue>([['sd', sd], ['epoch', 12], ['lr', 0.25], ['step', 2 ** 40], ['neg', -70000], ['args', [1, 'two', true, null]]]);
    const p = join(tmp, 'rt.pth');
    writePth(p, root);
    const back = readPthTensors(p);
    expectSameTensors(new Map([...sd].map(([k, v]) => [`sd.${k}`, v])), back);
    const f = openPth(p);
    const r = f.root as Map<string, unknown>;
    expect([r.get('epoch'), r.get('lr'), r.get('step'), r.get('neg'), r.get('args')]).toEqual([12, 0.25, 2 ** 40, -70000, [1, 'two', true, null]]);
    f.close();
  });

  it('lays entries out as torch.save does: stored, 64-byte aligned, one archive folder', () => {
    const p = join(tmp, 'layout.pth');
    writePth(p, new Map([['w', { shape: [3], data: new Float32Array([1, 2, 3]) }]]));
    const z = ZipFile.open(p);
    expect([...z.entries.keys()]).toEqual(['archive/data.pkl', 'archive/byteorder', 'archive/data/0', 'archive/version']);
    const bytes = readFileSync(p);
    for (const e of z.entries.values()) {
      expect(e.method).toBe(0);
      const start = e.localHeaderOffset + 30 + bytes.readUInt16LE(e.localHeaderOffset + 26) + bytes.readUInt16LE(e.localHeaderOffset + 28);
      expect(start % 64, e.name).toBe(0);
    }
    z.close();
  });
});

describe('export', () => {
  const full = loadDinoWeights(join(FX, 'vit_p16_full_checkpoint.pth'));
  const backbone = new Map([...full.tensors].filter(([k]) => !k.startsWith('head.')));

  it.each([
    ['pth', 'backbone'],
    ['pth', 'backbone+head'],
    ['pth', 'checkpoint'],
    ['safetensors', 'backbone'],
    ['safetensors', 'backbone+head'],
  ] as const)('%s / %s loads back as the same weights', (format, layout) => {
    const p = join(tmp, `p16-${layout.replace('+', '-')}.${format}`);
    const r = exportWeights(full.tensors, p, { format, layout, numHeads: 3 });
    const back = loadDinoWeights(p);
    expectSameTensors(layout === 'backbone' ? backbone : full.tensors, back.tensors);
    expect(r.tensors).toBe(back.tensors.size);
    expect(back.arch).toEqual(layout === 'backbone' ? { ...full.arch, head: undefined } : full.arch);
    if (layout === 'checkpoint') expect([back.layout, back.part]).toEqual(['full-checkpoint', 'teacher']);
  });

  it('writes the official state_dict order and the architecture as safetensors metadata', () => {
    const p = join(tmp, 'order.pth');
    exportWeights(full.tensors, p, { format: 'pth', layout: 'backbone+head' });
    const f = openPth(p);
    const keys = [...findStateDicts(f.root).get('')!.keys()];
    f.close();
    expect(keys.slice(0, 6)).toEqual(['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', 'blocks.0.norm1.weight', 'blocks.0.norm1.bias']);
    expect(keys.slice(-4)).toEqual(['head.mlp.4.weight', 'head.mlp.4.bias', 'head.last_layer.weight_g', 'head.last_layer.weight_v']);
    const s = join(tmp, 'meta.safetensors');
    exportWeights(full.tensors, s, { format: 'safetensors', numHeads: 3 });
    expect(loadDinoWeights(s).meta.metadata).toMatchObject({ num_heads: '3', patch_size: '16', embed_dim: '48', img_size: '64' });
  });

  it('refuses to overwrite, to export broken weights, or a head that is not there', () => {
    const p = join(tmp, 'exists.pth');
    exportWeights(backbone, p, { format: 'pth' });
    expect(() => exportWeights(backbone, p, { format: 'pth' })).toThrow(/exists; not overwriting/);
    expect(() => exportWeights(backbone, join(tmp, 'h.pth'), { format: 'pth', layout: 'backbone+head' })).toThrow(/needs the DINO head/);
    const broken = new Map(backbone);
    broken.delete('norm.bias');
    expect(() => exportWeights(broken, join(tmp, 'broken.pth'), { format: 'pth' })).toThrow(/missing 1 tensor \(norm\.bias\)/);
    expect(existsSync(join(tmp, 'broken.pth'))).toBe(false);
  });
});
