import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from './backend';
import { getPreset, withOverrides } from './presets';
import { trainDino, type SourceImage } from './trainer';
import { Rng } from './rng';
await initBackend('wasm');
const root = '../shared/data/caltech10';
const files = readdirSync(root).filter((d) => !d.includes('.')).flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)));
const S = Number(process.env.S ?? 48);
const imgs: SourceImage[] = [];
for (const [id, f] of files.slice(0, Number(process.env.N ?? 600)).entries()) {
  const { data, info } = await sharp(f).rotate().resize(S, S, { fit: 'outside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  imgs.push({ id, rgb: new Uint8Array(data), width: info.width, height: info.height });
}
const cfg = withOverrides(getPreset(process.env.P ?? 'cpu-tiny').config, JSON.parse(process.env.CFG ?? '{}'));
const src = (epoch: number, skip: number) => (async function* () { const o = new Rng(epoch + 1).permutation(imgs.length); for (let i = skip; i < o.length; i++) yield imgs[o[i]!]!; })();
const res = await trainDino(cfg, src, { onStep: (m) => { if (m.step % 10 === 0) console.log(m.step, 'loss', m.loss.toFixed(3), 'H', m.teacherEntropy.toFixed(3), 'kl', m.klTeacherStudent.toFixed(3), 'lr', m.lr.toExponential(2), 'ms', m.msPerStep.toFixed(0), 'data', m.dataWaitFraction.toFixed(3), m.collapse ?? ''); } }, { numImages: imgs.length, maxSteps: Number(process.env.STEPS ?? 60) });
res.dispose();
