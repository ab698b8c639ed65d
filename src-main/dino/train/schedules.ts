/**
 * Per-iteration schedules, precomputed like utils.cosine_scheduler: index them with the global
 * iteration `it = epoch * itersPerEpoch + step`. Each builder asserts its length.
 */
import type { DinoConfig } from './presets';

/** np.linspace(a, b, n) (endpoint included) */
export function linspace(a: number, b: number, n: number): number[] {
  if (n <= 0) return [];
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** Linear warmup from startWarmupValue to base over warmupEpochs, then cosine from base to final. */
export function cosineScheduler(
  base: number,
  final: number,
  epochs: number,
  itersPerEpoch: number,
  warmupEpochs = 0,
  startWarmupValue = 0,
): Float64Array {
  const warmupIters = warmupEpochs * itersPerEpoch;
  const warmup = warmupEpochs > 0 ? linspace(startWarmupValue, base, warmupIters) : [];
  const n = epochs * itersPerEpoch - warmupIters;
  const out = new Float64Array(epochs * itersPerEpoch);
  out.set(warmup.slice(0, out.length));
  for (let i = 0; i < n; i++) out[warmupIters + i] = final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / n));
  if (warmup.length + Math.max(n, 0) !== epochs * itersPerEpoch) {
    throw new Error(`schedule length ${warmup.length + n} != epochs * itersPerEpoch = ${epochs * itersPerEpoch}`);
  }
  return out;
}

/** Teacher temperature per epoch: linear warmup then constant (DINOLoss.teacher_temp_schedule). */
export function teacherTempSchedule(warmupTemp: number, temp: number, warmupEpochs: number, epochs: number): Float64Array {
  const out = new Float64Array(epochs);
  out.set(linspace(warmupTemp, temp, warmupEpochs).slice(0, epochs));
  for (let e = warmupEpochs; e < epochs; e++) out[e] = temp;
  return out;
}

/** The fields of a config the schedules are built from (the lr is per 256 photos: scaled linearly with the batch, as the official code). */
export type ScheduleConfig = Pick<
  DinoConfig,
  | 'epochs'
  | 'batchSize'
  | 'lr'
  | 'minLr'
  | 'warmupEpochs'
  | 'weightDecay'
  | 'weightDecayEnd'
  | 'momentumTeacher'
  | 'warmupTeacherTemp'
  | 'teacherTemp'
  | 'warmupTeacherTempEpochs'
>;

export interface Schedules {
  lr: Float64Array;
  wd: Float64Array;
  momentum: Float64Array;
  /** per epoch */
  teacherTemp: Float64Array;
  itersPerEpoch: number;
}

export function buildSchedules(c: ScheduleConfig, itersPerEpoch: number): Schedules {
  if (itersPerEpoch < 1) throw new Error('fewer photos than one batch: lower the batch size');
  return {
    lr: cosineScheduler((c.lr * c.batchSize) / 256, c.minLr, c.epochs, itersPerEpoch, c.warmupEpochs),
    wd: cosineScheduler(c.weightDecay, c.weightDecayEnd, c.epochs, itersPerEpoch),
    momentum: cosineScheduler(c.momentumTeacher, 1, c.epochs, itersPerEpoch),
    teacherTemp: teacherTempSchedule(c.warmupTeacherTemp, c.teacherTemp, c.warmupTeacherTempEpochs, c.epochs),
    itersPerEpoch,
  };
}
