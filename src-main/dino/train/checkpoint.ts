/**
 * Training state <-> safetensors: everything a resumed run needs to continue exactly (student,
 * teacher, AdamW moments and step counts, centre, iteration, config; the RNG
 * is drawn per iteration from the seed, crops.ts). Tensor names:
 * student.<param>, teacher.<param>, optimizer.m.<param>, optimizer.v.<param>, center.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DinoConfig } from './presets';
import { readNamed, type SafetensorsContent } from '../named-arrays';
import type { DinoState } from './step';

export const CHECKPOINT_FORMAT = 'dino-explorer-train/1';

export interface TrainProgress {
  /** iterations done (the next one to run) */
  it: number;
  numImages: number;
}

/**
 * The state as checkpoint tensors. Reads asynchronously: the values are those after every step queued
 * before the call, whatever is queued while it waits.
 */
export async function stateToCheckpoint(state: DinoState, config: DinoConfig, progress: TrainProgress): Promise<SafetensorsContent> {
  const named: [string, tf.Tensor][] = [];
  for (const [n, v] of state.student.params) named.push([`student.${n}`, v]);
  for (const [n, v] of state.teacher.params) named.push([`teacher.${n}`, v]);
  const steps: Record<string, number> = {};
  for (const [n, s] of state.optimizer.state) {
    named.push([`optimizer.m.${n}`, s.m], [`optimizer.v.${n}`, s.v]);
    steps[n] = s.step;
  }
  named.push(['center', state.center]);
  const tensors = await readNamed(named);
  return {
    tensors,
    metadata: {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(config),
      progress: JSON.stringify(progress),
      optimizerSteps: JSON.stringify(steps),
    },
  };
}

export function checkpointConfig(ck: SafetensorsContent): { config: DinoConfig; progress: TrainProgress } {
  if (ck.metadata.format !== CHECKPOINT_FORMAT) throw new Error(`not a training checkpoint (format ${ck.metadata.format ?? 'missing'})`);
  return { config: JSON.parse(ck.metadata.config!) as DinoConfig, progress: JSON.parse(ck.metadata.progress!) as TrainProgress };
}

/** Loads a checkpoint into a freshly created state of the same config. */
export function restoreState(state: DinoState, ck: SafetensorsContent): void {
  const set = (v: tf.Variable, name: string) => {
    const t = ck.tensors.get(name);
    if (!t) throw new Error(`checkpoint has no ${name}`);
    if (t.shape.join(',') !== v.shape.join(',')) throw new Error(`${name}: shape [${t.shape}] != [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  };
  for (const [n, v] of state.student.params) set(v, `student.${n}`);
  for (const [n, v] of state.teacher.params) set(v, `teacher.${n}`);
  set(state.center, 'center');
  const steps = JSON.parse(ck.metadata.optimizerSteps ?? '{}') as Record<string, number>;
  for (const [n, step] of Object.entries(steps)) {
    const p = state.student.params.get(n);
    if (!p) throw new Error(`checkpoint optimizer state for unknown parameter ${n}`);
    const s = state.optimizer.ensure(n);
    set(s.m, `optimizer.m.${n}`);
    set(s.v, `optimizer.v.${n}`);
    s.step = step;
  }
}
