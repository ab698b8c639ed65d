// Hugging Face `facebook/dino-*` checkpoints hold the same ViT under transformers' ViTModel names.
// This maps them to the official DINO names the app's ViT uses. The one change of layout: HF keeps
// query, key and value as three linears, the official code one qkv linear whose output is
// [q | k | v], so the three are stacked along the output dimension.

import { WeightsFormatError, type HostTensor } from './tensor-map';

/** Does this key set use Hugging Face ViT names (with or without a 'vit.' style prefix)? */
export function isHfVitLayout(keys: Iterable<string>): boolean {
  for (const k of keys) if (/(^|\.)embeddings\.patch_embeddings\.projection\.weight$/.test(k)) return true;
  return false;
}

const LAYER_PARTS: [RegExp, string][] = [
  [/^layernorm_before\.(weight|bias)$/, 'norm1.$1'],
  [/^layernorm_after\.(weight|bias)$/, 'norm2.$1'],
  [/^attention\.output\.dense\.(weight|bias)$/, 'attn.proj.$1'],
  [/^intermediate\.dense\.(weight|bias)$/, 'mlp.fc1.$1'],
  [/^output\.dense\.(weight|bias)$/, 'mlp.fc2.$1'],
];

const TOP: Record<string, string> = {
  'embeddings.cls_token': 'cls_token',
  'embeddings.position_embeddings': 'pos_embed',
  'embeddings.patch_embeddings.projection.weight': 'patch_embed.proj.weight',
  'embeddings.patch_embeddings.projection.bias': 'patch_embed.proj.bias',
  'layernorm.weight': 'norm.weight',
  'layernorm.bias': 'norm.bias',
};

/**
 * Where each official tensor comes from: official name -> the HF keys to stack along dim 0
 * (one key, or the query, key and value keys in that order). HF keys that are not part of a DINO
 * backbone (ViTModel's pooler, a classifier) are listed as ignored.
 */
export interface NamePlan {
  sources: Map<string, string[]>;
  ignored: string[];
}

export function hfNamePlan(keys: readonly string[]): NamePlan {
  const anchor = keys.find((k) => /(^|\.)embeddings\.patch_embeddings\.projection\.weight$/.test(k));
  if (anchor === undefined) throw new WeightsFormatError('not a Hugging Face ViT state dict (no embeddings.patch_embeddings.projection.weight)');
  const prefix = anchor.slice(0, anchor.length - 'embeddings.patch_embeddings.projection.weight'.length); // '' or 'vit.'
  const sources = new Map<string, string[]>();
  const ignored: string[] = [];
  const qkv = new Map<string, Partial<Record<'query' | 'key' | 'value', string>>>();
  for (const key of keys) {
    const k = key.startsWith(prefix) ? key.slice(prefix.length) : null;
    const top = k === null ? undefined : TOP[k];
    if (top) {
      sources.set(top, [key]);
      continue;
    }
    const m = k === null ? null : /^encoder\.layer\.(\d+)\.(.+)$/.exec(k);
    if (!m) {
      ignored.push(key); // pooler.dense.*, classifier.*: not DINO
      continue;
    }
    const layer = m[1]!;
    const rest = m[2]!;
    const att = /^attention\.attention\.(query|key|value)\.(weight|bias)$/.exec(rest);
    if (att) {
      const slot = `blocks.${layer}.attn.qkv.${att[2]!}`;
      const entry = qkv.get(slot) ?? {};
      entry[att[1] as 'query' | 'key' | 'value'] = key;
      qkv.set(slot, entry);
      continue;
    }
    const part = LAYER_PARTS.find(([re]) => re.test(rest));
    if (!part) ignored.push(key);
    else sources.set(`blocks.${layer}.${rest.replace(part[0], part[1])}`, [key]);
  }
  for (const [slot, { query, key, value }] of qkv) {
    if (!query || !key || !value) throw new WeightsFormatError(`the Hugging Face checkpoint lacks part of ${slot.replace('qkv', 'query/key/value')}`);
    sources.set(slot, [query, key, value]);
  }
  return { sources, ignored };
}

/** Stacks tensors along dimension 0 (q, k, v of [D, D] -> [3D, D]; biases [D] -> [3D]). */
export function concatRows(parts: HostTensor[]): HostTensor {
  const first = parts[0]!;
  const tail = first.shape.slice(1).join(',');
  for (const p of parts) if (p.shape.slice(1).join(',') !== tail) throw new WeightsFormatError('query/key/value shapes differ');
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p.data, o);
    o += p.data.length;
  }
  return { shape: [parts.reduce((n, p) => n + p.shape[0]!, 0), ...first.shape.slice(1)], data };
}

