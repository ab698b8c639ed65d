import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src-main/dino/backend';
import { installNativeKernels, uninstallNativeKernels } from './src-main/dino/native-kernels';
await initBackend('wasm');
const x = tf.randomNormal([2144 * 768]);
function t(label: string, f: () => tf.Tensor) { f().dispose(); const t0 = performance.now(); for (let i = 0; i < 10; i++) f().dispose(); console.log(label, ((performance.now() - t0) / 10).toFixed(2), 'ms'); }
t('wasm erf', () => tf.erf(x)); t('wasm exp', () => tf.exp(x)); t('wasm mul', () => tf.mul(x, x));
installNativeKernels();
t('native erf', () => tf.erf(x)); t('native exp', () => tf.exp(x));
const a = tf.erf(x).dataSync(); uninstallNativeKernels(); const b = tf.erf(x).dataSync(); let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); console.log('max diff erf', e);
