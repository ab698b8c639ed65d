// Infers a DINO ViT's architecture from tensor shapes alone (official names, after any renaming),
// and checks the set is complete and consistent, so that a wrong file fails here with a message
// naming what it holds instead of failing later inside the model.

import { WeightsFormatError, describeKeys, shown } from './tensor-map';

export interface ViTArchInfo {
  /** vit_tiny / vit_small / vit_base when width and depth match the official factories */
  arch: 'vit_tiny' | 'vit_small' | 'vit_base' | 'custom';
  embedDim: number;
  depth: number;
  numHeads: number;
  patchSize: number;
  /** the square image size pos_embed was trained for (224 for the official checkpoints) */
  imgSize: number;
  mlpHidden: number;
  qkvBias: boolean;
  head?: HeadArchInfo;
}

export interface HeadArchInfo {
  /** K, the number of prototypes (65536 officially) */
  outDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  nlayers: number;
}

const KNOWN_WIDTHS: Record<number, { heads: number; arch: 'vit_tiny' | 'vit_small' | 'vit_base' }> = {
  192: { heads: 3, arch: 'vit_tiny' },
  384: { heads: 6, arch: 'vit_small' },
  768: { heads: 12, arch: 'vit_base' },
};

/**
 * Heads cannot be read off the weights (qkv is [3D, D] whatever the split): the official widths
 * use head_dim 64; other widths take head_dim 64, else 32, else 16 (dim 48 -> 3 heads).
 */
export function defaultNumHeads(dim: number): number {
  const known = KNOWN_WIDTHS[dim];
  if (known) return known.heads;
  for (const hd of [64, 32, 16]) if (dim % hd === 0) return dim / hd;
  return 1;
}

function guessOther(keys: string[]): string {
  const has = (re: RegExp) => keys.some((k) => re.test(k));
  if (has(/(^|\.)layer\d\.\d+\.conv\d\.weight$/) || has(/(^|\.)conv1\.weight$/)) return ' (it looks like a ResNet/CNN)';
  if (has(/blocks\.\d+\.attn\.temperature$/)) return ' (it looks like an XCiT, which this app does not run)';
  if (has(/(^|\.)encoder\.layers?\.\d+\./)) return ' (it looks like another transformer layout)';
  return '';
}

type Shapes = ReadonlyMap<string, { shape: number[] }>;

/**
 * Architecture of a ViT (and head, when `head.*` tensors are present) from official-name shapes.
 * Throws WeightsFormatError naming what was found when the tensors are not a DINO ViT.
 */
export function inspectVit(tensors: Shapes, opts: { numHeads?: number; label?: string } = {}): ViTArchInfo {
  const label = opts.label ? `${opts.label}: ` : '';
  const keys = [...tensors.keys()];
  const shape = (k: string) => tensors.get(k)?.shape;
  const cls = shape('cls_token');
  const pos = shape('pos_embed');
  const proj = shape('patch_embed.proj.weight');
  if (!cls || !pos || !proj) {
    throw new WeightsFormatError(`${label}found ${describeKeys(keys)}: not a DINO ViT${guessOther(keys)}`);
  }
  const fail = (msg: string): never => {
    throw new WeightsFormatError(`${label}not a valid DINO ViT: ${msg}`);
  };
  const d = cls[2] ?? 0;
  if (cls.length !== 3 || cls[0] !== 1 || cls[1] !== 1 || d <= 0) fail(`cls_token has shape [${cls}], expected [1, 1, D]`);
  if (pos.length !== 3 || pos[0] !== 1 || pos[2] !== d) fail(`pos_embed has shape [${pos}], expected [1, 1 + N, ${d}]`);
  const n = pos[1]! - 1;
  const side = Math.round(Math.sqrt(n));
  if (n <= 0 || side * side !== n) fail(`pos_embed holds ${n} patch positions, not a square grid`);
  if (proj.length !== 4 || proj[0] !== d || proj[1] !== 3 || proj[2] !== proj[3]) fail(`patch_embed.proj.weight has shape [${proj}], expected [${d}, 3, p, p]`);
  const patchSize = proj[2]!;
  const blocks = new Set<number>();
  for (const k of keys) {
    const m = /^blocks\.(\d{1,9})\./.exec(k);
    if (m) blocks.add(Number(m[1]));
  }
  let depth = 0;
  for (const b of blocks) depth = Math.max(depth, b + 1);
  if (depth === 0) fail('no transformer blocks (blocks.N.*)');
  // checked before the per-block list below is built: a key 'blocks.999999999.x' must not make it
  if (blocks.size !== depth) fail(`blocks are numbered up to ${depth - 1} but only ${blocks.size} are present`);
  const hidden = shape('blocks.0.mlp.fc1.weight')?.[0] ?? 0;
  const qkvBias = tensors.has('blocks.0.attn.qkv.bias');
  const expect: [string, number[] | undefined][] = [['patch_embed.proj.bias', [d]], ['norm.weight', [d]], ['norm.bias', [d]]];
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}.`;
    expect.push(
      [`${b}norm1.weight`, [d]], [`${b}norm1.bias`, [d]],
      [`${b}attn.qkv.weight`, [3 * d, d]], [`${b}attn.proj.weight`, [d, d]], [`${b}attn.proj.bias`, [d]],
      [`${b}norm2.weight`, [d]], [`${b}norm2.bias`, [d]],
      [`${b}mlp.fc1.weight`, [hidden, d]], [`${b}mlp.fc1.bias`, [hidden]],
      [`${b}mlp.fc2.weight`, [d, hidden]], [`${b}mlp.fc2.bias`, [d]],
    );
    if (qkvBias) expect.push([`${b}attn.qkv.bias`, [3 * d]]);
  }
  const missing = expect.filter(([k]) => !tensors.has(k)).map(([k]) => k);
  if (missing.length) fail(`missing ${missing.length} tensor${missing.length > 1 ? 's' : ''} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}); the file may be cut or hold another model`);
  for (const [k, s] of expect) {
    if (s && shape(k)!.join(',') !== s.join(',')) fail(`${k} has shape [${shape(k)}], expected [${s}]`);
  }
  const extra = keys.filter((k) => !k.startsWith('head.') && !expect.some(([e]) => e === k) && !['cls_token', 'pos_embed', 'patch_embed.proj.weight'].includes(k));
  if (extra.length) fail(`unexpected tensor${extra.length > 1 ? 's' : ''} ${extra.slice(0, 3).map((k) => shown(k, 60)).join(', ')}${extra.length > 3 ? ', ...' : ''}`);
  const numHeads = opts.numHeads ?? defaultNumHeads(d);
  if (d % numHeads !== 0) fail(`${numHeads} heads do not divide width ${d}`);
  const known = KNOWN_WIDTHS[d];
  const arch = known && depth === 12 && hidden === 4 * d && numHeads === known.heads ? known.arch : 'custom';
  const info: ViTArchInfo = { arch, embedDim: d, depth, numHeads, patchSize, imgSize: side * patchSize, mlpHidden: hidden, qkvBias };
  const head = inspectHead(tensors, d, label);
  if (head) info.head = head;
  return info;
}

/** The DINO head (head.mlp.*, head.last_layer.*), or undefined when the file has none. */
export function inspectHead(tensors: Shapes, inDim: number, label = ''): HeadArchInfo | undefined {
  const keys = [...tensors.keys()].filter((k) => k.startsWith('head.'));
  if (keys.length === 0) return undefined;
  const fail = (msg: string): never => {
    throw new WeightsFormatError(`${label}the DINO head is not one this app runs: ${msg}`);
  };
  if (keys.some((k) => /^head\.mlp\.\d+\.running_mean$/.test(k))) fail('it uses batch norm (use_bn_in_head)');
  const v = tensors.get('head.last_layer.weight_v')?.shape;
  const g = tensors.get('head.last_layer.weight_g')?.shape;
  if (!v || !g) fail('no weight-normalised last layer (head.last_layer.weight_g / weight_v)');
  const [outDim, bottleneckDim] = v as [number, number];
  if (g!.join(',') !== `${outDim},1`) fail(`head.last_layer.weight_g has shape [${g}], expected [${outDim}, 1]`);
  const linears: number[] = [];
  for (const k of keys) {
    const m = /^head\.mlp\.(\d+)\.weight$/.exec(k);
    if (m) linears.push(Number(m[1]));
  }
  linears.sort((a, b) => a - b);
  if (linears.length === 0) {
    const w = tensors.get('head.mlp.weight')?.shape; // nlayers = 1: a single linear
    if (!w || w.join(',') !== `${bottleneckDim},${inDim}`) fail('no head.mlp linears');
    return { outDim, hiddenDim: 0, bottleneckDim, nlayers: 1 };
  }
  // Linear-GELU-...: the linears sit at even indices 0, 2, 4, ...
  if (linears.some((idx, i) => idx !== 2 * i)) fail(`unexpected head.mlp layout (linears at ${linears.join(', ')})`);
  const hiddenDim = tensors.get('head.mlp.0.weight')!.shape[0]!;
  linears.forEach((idx, i) => {
    const s = tensors.get(`head.mlp.${idx}.weight`)!.shape;
    const want = [i === linears.length - 1 ? bottleneckDim : hiddenDim, i === 0 ? inDim : hiddenDim];
    if (s.join(',') !== want.join(',')) fail(`head.mlp.${idx}.weight has shape [${s}], expected [${want}]`);
    const b = tensors.get(`head.mlp.${idx}.bias`)?.shape;
    if (!b || b.join(',') !== `${want[0]}`) fail(`head.mlp.${idx}.bias is missing or misshapen`);
  });
  return { outDim, hiddenDim, bottleneckDim, nlayers: linears.length };
}
