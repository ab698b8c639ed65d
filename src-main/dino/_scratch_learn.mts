import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import { getPreset, withOverrides } from './presets';
import { trainDino, type SourceImage } from './trainer';
import { Rng } from './rng';

const info = await initBackend();
console.log(info);
const N = Number(process.env.N ?? 64);
const r = new Rng(7);
const imgs: SourceImage[] = Array.from({ length: N }, (_, id) => {
  const w = 48, h = 40; const rgb = new Uint8Array(w * h * 3);
  const c = [r.int(0, 256), r.int(0, 256), r.int(0, 256)]; const c2 = [r.int(0, 256), r.int(0, 256), r.int(0, 256)];
  const split = r.int(8, 40);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) rgb[(y * w + x) * 3 + k] = Math.min(255, Math.max(0, (x < split ? c[k]! : c2[k]!) + r.int(-20, 20)));
  return { id, rgb, width: w, height: h };
});
const cfg = withOverrides(getPreset('cpu-tiny').config, JSON.parse(process.env.CFG ?? '{}'));
const steps = Number(process.env.STEPS ?? 50);
const before = tf.memory().numTensors;
const losses: number[] = [];
const res = await trainDino(cfg, async function* () { for (const i of imgs) yield i; }, {
  onStep: (m) => { losses.push(m.loss); if (m.step % 5 === 0 || m.step < 4) console.log(m.step, m.loss.toFixed(4), 'H', m.teacherEntropy.toFixed(3), 'kl', m.klTeacherStudent.toFixed(3), 'lr', m.lr.toExponential(2), 'ms', m.msPerStep.toFixed(0), 'data', m.dataWaitFraction.toFixed(3), 'tensors', tf.memory().numTensors, 'rss', (process.memoryUsage().rss/1e6).toFixed(0)); },
}, { numImages: N, maxSteps: steps });
res.dispose();
console.log('tensors before/after', before, tf.memory().numTensors);
const a = losses.slice(0, 5).reduce((x, y) => x + y) / 5, b = losses.slice(-5).reduce((x, y) => x + y) / 5;
console.log('first5', a, 'last5', b);
