/**
 * What the training loop says of each step (main_dino.py's MetricLogger, plus collapse and timing),
 * and the reporter that reads a queued step's loss, times it and checkpoints on a timer. On an
 * asynchronous backend the loop hands it step i + 1 before step i is read, so the device always has
 * work queued while the loop waits for a result.
 */
import type { Schedules } from './schedules';
import type { StepResult } from './step';

export type Collapse = 'uniform' | 'one-prototype' | null;

export interface StepMetrics {
  epoch: number;
  /** iterations done, 1-based */
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  wd: number;
  momentum: number;
  teacherTemp: number;
  teacherEntropy: number;
  klTeacherStudent: number;
  imgPerSec: number;
  /** share of the step spent getting images and making crops */
  dataWaitFraction: number;
  etaSeconds: number | null;
  collapse: Collapse;
  msPerStep: number;
}

/** Collapse watch: the teacher's entropy near log K (uniform) or near 0 (one prototype) for `window` steps. */
export class CollapseWatch {
  private uniform = 0;
  private single = 0;
  constructor(
    private readonly k: number,
    private readonly window: number,
  ) {}
  update(entropy: number): Collapse {
    const logK = Math.log(this.k);
    this.uniform = entropy >= 0.98 * logK ? this.uniform + 1 : 0;
    this.single = entropy <= 0.05 * logK ? this.single + 1 : 0;
    if (this.uniform >= this.window) return 'uniform';
    if (this.single >= this.window) return 'one-prototype';
    return null;
  }
}

/** The loss went non-finite: the run cannot go on (a lower lr or a higher teacher temperature may). */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(
    readonly it: number,
    readonly totalSteps: number,
    loss: number,
  ) {
    super(`loss is ${loss} at iteration ${it}: lower the lr or raise the teacher temperature`);
  }
}

/** A step the device has queued, its metrics not read yet. */
export interface QueuedStep {
  epoch: number;
  it: number;
  /** photos in the step */
  batchSize: number;
  result: Promise<StepResult>;
  /** time spent waiting for its photos and crops */
  dataMs: number;
}

export interface ReportPlan {
  totalSteps: number;
  sched: Schedules;
  /** K, the head's output size (the collapse watch's log K) */
  outDim: number;
  /** steps in a row with the teacher entropy in a collapse zone before it is reported */
  collapseWindow: number;
  checkpointEveryMs: number | undefined;
  onStep?: ((m: StepMetrics) => void | Promise<void>) | undefined;
  /** the timed checkpoint after iteration `it` (1-based): save the state and judge it */
  checkpoint(it: number): Promise<void>;
}

export class StepReporter {
  // the loop's clock runs only while it trains: hooks (reporting, pausing, checkpoints) are left out
  private hookMs = 0;
  private emaStepMs = 0;
  private lastReported: number;
  private lastSave = Date.now();
  private pending: QueuedStep | null = null;
  private readonly watch: CollapseWatch;

  constructor(private readonly plan: ReportPlan) {
    this.watch = new CollapseWatch(plan.outDim, plan.collapseWindow);
    this.lastReported = this.clock();
  }

  clock(): number {
    return performance.now() - this.hookMs;
  }

  /** Runs `f` with the loop's clock stopped. */
  async outsideClock<T>(f: () => T | Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await f();
    } finally {
      this.hookMs += performance.now() - t;
    }
  }

  /**
   * Takes the step just queued. With `readLater` (an asynchronous backend) the step before it is
   * reported while the device runs this one; otherwise this one is reported at once.
   */
  async queued(step: QueuedStep, readLater: boolean): Promise<void> {
    await this.drain();
    this.pending = step;
    if (!readLater) await this.drain();
  }

  /** Reports the step still waiting, if any. */
  async drain(): Promise<void> {
    const step = this.pending;
    this.pending = null;
    if (step) await this.report(step);
  }

  private async report(step: QueuedStep): Promise<void> {
    const { plan } = this;
    const r = await step.result;
    const now = this.clock();
    const ms = now - this.lastReported;
    this.lastReported = now;
    const { it, epoch } = step;
    this.emaStepMs = this.emaStepMs ? 0.9 * this.emaStepMs + 0.1 * ms : ms;
    const m: StepMetrics = {
      epoch,
      step: it + 1,
      totalSteps: plan.totalSteps,
      loss: r.loss,
      lr: plan.sched.lr[it]!,
      wd: plan.sched.wd[it]!,
      momentum: plan.sched.momentum[it]!,
      teacherTemp: plan.sched.teacherTemp[epoch]!,
      teacherEntropy: r.teacherEntropy,
      klTeacherStudent: r.kl,
      imgPerSec: (step.batchSize * 1000) / ms,
      dataWaitFraction: Math.min(1, step.dataMs / ms),
      etaSeconds: ((plan.totalSteps - it - 1) * this.emaStepMs) / 1000,
      collapse: this.watch.update(r.teacherEntropy),
      msPerStep: ms,
    };
    if (!Number.isFinite(r.loss)) throw new DivergedError(it, plan.totalSteps, r.loss);
    await this.outsideClock(() => plan.onStep?.(m));
    if (plan.checkpointEveryMs !== undefined && Date.now() - this.lastSave >= plan.checkpointEveryMs) {
      await this.outsideClock(() => plan.checkpoint(it + 1));
      this.lastSave = Date.now();
    }
  }
}
