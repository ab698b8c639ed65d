// One entry point for every weights file the app accepts: the official `.pth` files (backbone-only
// `*_pretrain.pth` and the training `*_full_checkpoint.pth`), Hugging Face `pytorch_model.bin` /
// `.safetensors` (ViTModel names), and the app's own exports; torch.save's zip format and its
// pre-1.6 legacy format. The format is told by the bytes, not the extension; names become the
// official ones; the architecture is inferred and checked.

import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeSafetensors } from './safetensors';
import { concatRows, hfNamePlan, isHfVitLayout } from './hf-names';
import { inspectVit, type ViTArchInfo } from './inspect';
import { PyObject, type PyValue } from './pickle';
import { findStateDicts, openPth, type PthFile } from './pth-reader';
import type { TorchTensorRef } from './torch-globals';
import { WeightsFormatError, type HostTensor, type TensorMap } from './tensor-map';

export type WeightsFormat = 'pth' | 'safetensors';
export type WeightsLayout = 'official' | 'full-checkpoint' | 'hf';

export interface LoadOptions {
  /** which network of a full training checkpoint: the teacher (default; what DINO evaluates) or the student */
  part?: 'teacher' | 'student';
  /** attention heads, when the width is not an official one and the file does not say */
  numHeads?: number;
  /** read shapes only (inspection): `tensors` stays empty */
  shapesOnly?: boolean;
}

export interface LoadedWeights {
  file: string;
  format: WeightsFormat;
  layout: WeightsLayout;
  /** the state dict used: '' (the file itself), 'teacher', 'student', 'state_dict', ... */
  part: string;
  arch: ViTArchInfo;
  /** official names: backbone, plus head.* when the file has a DINO head */
  tensors: TensorMap;
  /** keys in the file that are not part of a DINO ViT or head (HF pooler, classifier) */
  ignored: string[];
  /** training metadata of a full checkpoint, as plain data (never executed) */
  meta: { epoch?: number; args?: Record<string, unknown>; normLastLayer?: boolean; metadata?: Record<string, string> };
}

interface Source {
  format: WeightsFormat;
  part: string;
  shapes: Map<string, { shape: number[] }>;
  load(key: string): HostTensor;
  root?: PyValue;
  metadata?: Record<string, string>;
  close(): void;
}

const PART_ORDER = ['teacher', '', 'state_dict', 'model', 'module', 'student'];

function sniff(path: string): { kind: 'zip' | 'safetensors' | 'legacy-torch' | 'unknown'; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(16, size));
    readSync(fd, head, 0, head.length, 0);
    if (size === 0) throw new WeightsFormatError(`${basename(path)}: the file is empty`);
    if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return { kind: 'zip', size };
    if (head.length >= 9 && head[8] === 0x7b /* { */) return { kind: 'safetensors', size };
    // torch.save before 1.6: a pickled magic number 0x1950a86a20f9469cfc6c (LONG1 of 10 bytes)
    if (head.length >= 4 && head[0] === 0x80 && head[2] === 0x8a && head[3] === 0x0a) return { kind: 'legacy-torch', size };
    return { kind: 'unknown', size };
  } finally {
    closeSync(fd);
  }
}

function pickPart(dicts: Map<string, Map<string, TorchTensorRef>>, want: string | undefined, label: string): string {
  if (want !== undefined) {
    if (!dicts.has(want)) throw new WeightsFormatError(`${label}: the checkpoint has no '${want}' state dict (it has: ${[...dicts.keys()].map((k) => k || '(top level)').join(', ')})`);
    return want;
  }
  for (const p of PART_ORDER) if (dicts.has(p)) return p;
  let best = '';
  let most = -1;
  for (const [k, v] of dicts) {
    if (v.size > most) {
      best = k;
      most = v.size;
    }
  }
  return best;
}

function pthSource(path: string, label: string, part: string | undefined): Source {
  const f: PthFile = openPth(path, label);
  try {
    const dicts = findStateDicts(f.root);
    if (dicts.size === 0) throw new WeightsFormatError(`${label}: a PyTorch file without any tensors (not a state dict)`);
    const chosen = pickPart(dicts, part, label);
    const dict = dicts.get(chosen)!;
    return {
      format: 'pth',
      part: chosen,
      shapes: new Map([...dict].map(([k, r]) => [k, { shape: r.shape }])),
      load: (k) => f.load(dict.get(k)!),
      root: f.root,
      close: () => f.close(),
    };
  } catch (err) {
    f.close();
    throw err;
  }
}

function safetensorsSource(path: string, label: string, size: number): Source {
  // check the header against the file size first, so a cut file says so plainly
  const fd = openSync(path, 'r');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  let hlen: number;
  try {
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    hlen = Number(lenBuf.readBigUInt64LE(0));
    if (8 + hlen > size) throw new WeightsFormatError(`${label}: the safetensors file is truncated (header of ${hlen} bytes, file has ${size})`);
    const hbuf = Buffer.alloc(hlen);
    readSync(fd, hbuf, 0, hlen, 8);
    try {
      header = JSON.parse(hbuf.toString('utf8')) as typeof header;
    } catch {
      throw new WeightsFormatError(`${label}: not a safetensors file (its header is not JSON)`);
    }
  } finally {
    closeSync(fd);
  }
  let end = 0;
  const shapes = new Map<string, { shape: number[] }>();
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const e = v as { shape: number[]; data_offsets: [number, number] };
    if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) throw new WeightsFormatError(`${label}: malformed safetensors entry ${k}`);
    end = Math.max(end, e.data_offsets[1]);
    shapes.set(k, { shape: e.shape });
  }
  if (8 + hlen + end > size) throw new WeightsFormatError(`${label}: the safetensors file is truncated (tensor data ends at byte ${8 + hlen + end}, file has ${size})`);
  let content: ReturnType<typeof decodeSafetensors> | undefined;
  const metadata = (header.__metadata__ as Record<string, string> | undefined) ?? {};
  return {
    format: 'safetensors',
    part: '',
    shapes,
    metadata,
    load(k) {
      if (!content) {
        try {
          content = decodeSafetensors(readFileSync(path));
        } catch (err) {
          throw new WeightsFormatError(`${label}: ${(err as Error).message}`);
        }
      }
      return content.tensors.get(k)!;
    },
    close: () => (content = undefined),
  };
}

/** Official-name plan: strip DDP's 'module.' and MultiCropWrapper's 'backbone.'; new-style weight_norm names. */
function officialNamePlan(keys: string[]): Map<string, string[]> {
  const plan = new Map<string, string[]>();
  for (const key of keys) {
    let k = key;
    for (;;) {
      const next = k.replace(/^(module|backbone|teacher|student)\./, '');
      if (next === k) break;
      k = next;
    }
    k = k.replace(/^head\.last_layer\.parametrizations\.weight\.original0$/, 'head.last_layer.weight_g');
    k = k.replace(/^head\.last_layer\.parametrizations\.weight\.original1$/, 'head.last_layer.weight_v');
    if (plan.has(k)) throw new WeightsFormatError(`two tensors map to ${k} (${plan.get(k)![0]} and ${key})`);
    plan.set(k, [key]);
  }
  return plan;
}

/**
 * The training arguments as JSON-like data, at most PLAIN_NODES values in all: a Namespace whose
 * lists name the same list over and over would otherwise expand to 10^6 values for six levels of ten
 * (and so would any later JSON of it). Keys become own properties (fromEntries), so a key named
 * __proto__ is just a key.
 */
const PLAIN_NODES = 10_000;
function plainData(v: PyValue, depth = 0, left = { nodes: PLAIN_NODES }): unknown {
  // counted before the depth test: the cut-off level's values count too
  if (--left.nodes < 0 || depth > 6) return undefined;
  if (v instanceof PyObject) return plainData(v.state as PyValue, depth + 1, left);
  // the loops stop with the budget: a Map of a million entries costs its first few thousand
  if (v instanceof Map) {
    const entries: [string, unknown][] = [];
    for (const [k, x] of v) {
      if (left.nodes <= 0) break;
      entries.push([String(k), plainData(x as PyValue, depth + 1, left)]);
    }
    return Object.fromEntries(entries);
  }
  if (Array.isArray(v)) {
    const items: unknown[] = [];
    for (const x of v) {
      if (left.nodes <= 0) break;
      items.push(plainData(x as PyValue, depth + 1, left));
    }
    return items;
  }
  if (typeof v === 'bigint') return Number(v);
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return v;
  return undefined; // tensors, bytes: not metadata
}

/** Reads a weights file of any accepted format into official names; throws WeightsFormatError with a clear message otherwise. */
export function loadDinoWeights(path: string, opts: LoadOptions = {}): LoadedWeights {
  const label = basename(path);
  const { kind, size } = sniff(path);
  if (kind === 'unknown') {
    // what the bytes are is not repeated back: a message must not carry a file's content
    throw new WeightsFormatError(`${label}: not a PyTorch checkpoint (.pth/.bin zip) or a .safetensors file (${size} bytes)`);
  }
  const src = kind === 'safetensors' ? safetensorsSource(path, label, size) : pthSource(path, label, opts.part);
  try {
    const keys = [...src.shapes.keys()];
    const hf = isHfVitLayout(keys);
    let plan: Map<string, string[]>;
    let ignored: string[] = [];
    if (hf) ({ sources: plan, ignored } = hfNamePlan(keys));
    else plan = officialNamePlan(keys);
    // a classifier head (timm/DeiT 'head.weight' [classes, D]) is not a DINO head: leave it out
    if (!hf && plan.has('head.weight') && ![...plan.keys()].some((k) => k.startsWith('head.mlp') || k.startsWith('head.last_layer'))) {
      for (const k of ['head.weight', 'head.bias']) {
        if (!plan.has(k)) continue;
        ignored.push(plan.get(k)![0]!);
        plan.delete(k);
      }
    }
    const shapes = new Map<string, { shape: number[] }>();
    for (const [name, from] of plan) {
      const parts = from.map((k) => src.shapes.get(k)!.shape);
      shapes.set(name, { shape: [parts.reduce((n, s) => n + (s[0] ?? 0), 0), ...parts[0]!.slice(1)] });
      if (parts.length === 1) shapes.set(name, { shape: parts[0]! });
    }
    const metaHeads = Number(src.metadata?.num_heads);
    const numHeads = opts.numHeads ?? (Number.isInteger(metaHeads) && metaHeads > 0 ? metaHeads : undefined);
    const arch = inspectVit(shapes, { label, ...(numHeads ? { numHeads } : {}) });
    const layout: WeightsLayout = hf ? 'hf' : src.part === 'teacher' || src.part === 'student' ? 'full-checkpoint' : 'official';
    const meta: LoadedWeights['meta'] = {};
    if (src.metadata && Object.keys(src.metadata).length) meta.metadata = src.metadata;
    if (src.root instanceof Map) {
      const epoch = src.root.get('epoch');
      if (typeof epoch === 'number') meta.epoch = epoch;
      const args = src.root.get('args');
      if (args instanceof PyObject) meta.args = plainData(args as PyValue) as Record<string, unknown>;
    }
    const tensors: TensorMap = new Map();
    if (!opts.shapesOnly) {
      for (const [name, from] of plan) {
        let parts: HostTensor[];
        try {
          parts = from.map((k) => src.load(k));
        } catch (err) {
          if (err instanceof WeightsFormatError) throw err;
          throw new WeightsFormatError(`${label}: corrupt tensor data for ${from.join(', ')} (${(err as Error).message})`);
        }
        tensors.set(name, parts.length === 1 ? parts[0]! : concatRows(parts));
      }
      const g = tensors.get('head.last_layer.weight_g');
      if (g) meta.normLastLayer = g.data.every((x) => Math.abs(x - 1) < 1e-6);
    }
    return { file: path, format: src.format, layout, part: src.part, arch, tensors, ignored, meta };
  } finally {
    src.close();
  }
}

/** The backbone tensors only (everything but head.*): what the ViT loads for embedding. */
export function backboneOf(tensors: TensorMap): TensorMap {
  return new Map([...tensors].filter(([k]) => !k.startsWith('head.')));
}

