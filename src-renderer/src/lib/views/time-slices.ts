/**
 * Main-thread work cut into time slices with a macrotask boundary between them, so the browser renders
 * a frame and handles input in between. Stops (null) once `cancelled` says so; `busy` adds up the time
 * spent working, yields excluded.
 */
export class TimeSlices {
  busy = 0;

  constructor(
    private readonly cancelled: () => boolean,
    /** the most main-thread time one slice takes before it yields */
    private readonly sliceMs: number,
  ) {}

  async step<T>(work: () => T): Promise<T | null> {
    await new Promise((r) => setTimeout(r, 0));
    if (this.cancelled()) return null;
    const t0 = performance.now();
    const out = work();
    this.busy += performance.now() - t0;
    return out;
  }

  /**
   * Runs a generator as many of its steps per slice as fit in sliceMs: the first run of each is before
   * the JIT has compiled it, and took 30-60 ms in one task on a loaded machine.
   */
  async run<T>(steps: Generator<void, T, void>): Promise<T | null> {
    for (;;) {
      const r = await this.step(() => {
        const until = performance.now() + this.sliceMs;
        let s = steps.next();
        while (!s.done && performance.now() < until) s = steps.next();
        return s;
      });
      if (!r) return null;
      if (r.done) return r.value;
    }
  }
}
