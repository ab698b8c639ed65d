/**
 * Time per tfjs kernel, split by phase, for `npm run profile:train`. Every kernel registered for the
 * backend is re-registered wrapped in a timer; wasm (and the native kernels) run synchronously, so the
 * time around a kernel function is its compute time. The phase is read from tfjs's scope stack: kernels
 * under the gradient tape's 'forward' scope are the student's forward, under 'backward' its backward
 * (with per-block recomputation that includes the recomputed forward); the caller names other
 * phases (teacher, optimizer, ...) with `phase()`.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelStat {
  phase: string;
  kernel: string;
  calls: number;
  ms: number;
}

interface ScopeEngine {
  state: { scopeStack: { name: string }[] };
}

export class KernelProfiler {
  private readonly originals: tf.KernelConfig[] = [];
  private readonly stats = new Map<string, KernelStat>();
  private current = 'other';
  private depth = 0;

  constructor(private readonly backendName: string) {}

  /** Wraps every kernel of the backend; call stop() to put them back. */
  start(): void {
    if (this.originals.length) return;
    const engine = tf.engine() as unknown as ScopeEngine;
    for (const cfg of tf.getKernelsForBackend(this.backendName)) {
      this.originals.push(cfg);
      const inner = cfg.kernelFunc;
      tf.unregisterKernel(cfg.kernelName, cfg.backendName);
      tf.registerKernel({
        ...cfg,
        // setup already ran when the backend started; running it again would redo its work
        setupFunc: undefined,
        disposeFunc: undefined,
        kernelFunc: (args) => {
          // kernels may call kernels through the registry: count the outermost only
          if (this.depth > 0) return inner(args);
          this.depth++;
          const t0 = performance.now();
          try {
            return inner(args);
          } finally {
            this.depth--;
            this.add(this.phaseOf(engine), cfg.kernelName, performance.now() - t0);
          }
        },
      });
    }
  }

  stop(): void {
    for (const cfg of this.originals) {
      tf.unregisterKernel(cfg.kernelName, cfg.backendName);
      tf.registerKernel(cfg);
    }
    this.originals.length = 0;
  }

  /** Runs f with kernels outside the gradient tape's scopes counted under `name`. */
  phase<T>(name: string, f: () => T): T {
    const prev = this.current;
    this.current = name;
    try {
      return f();
    } finally {
      this.current = prev;
    }
  }

  reset(): void {
    this.stats.clear();
  }

  results(): KernelStat[] {
    return [...this.stats.values()].sort((a, b) => b.ms - a.ms);
  }

  private phaseOf(engine: ScopeEngine): string {
    const names = engine.state.scopeStack.map((s) => s.name);
    if (names.includes('backward')) return 'student backward';
    if (names.includes('forward')) return 'student forward';
    return this.current;
  }

  private add(phase: string, kernel: string, ms: number): void {
    const key = `${phase}\u0000${kernel}`;
    const s = this.stats.get(key) ?? { phase, kernel, calls: 0, ms: 0 };
    s.calls++;
    s.ms += ms;
    this.stats.set(key, s);
  }
}

/** Sums per phase and per kernel (over phases). */
export function summarize(stats: KernelStat[]): { phases: Map<string, number>; kernels: Map<string, number> } {
  const phases = new Map<string, number>();
  const kernels = new Map<string, number>();
  for (const s of stats) {
    phases.set(s.phase, (phases.get(s.phase) ?? 0) + s.ms);
    kernels.set(s.kernel, (kernels.get(s.kernel) ?? 0) + s.ms);
  }
  return { phases, kernels };
}
