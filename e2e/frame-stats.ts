import type { CDPSession, Page, TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

/**
 * Frame-time measurement for the 100k-photo benchmarks (issue #7: p95 frame < 20 ms, no main-thread
 * stall over 100 ms). Two independent views of the same interval, both taken inside the page:
 * - frame times: deltas between consecutive requestAnimationFrame callbacks, which is what the user
 *   sees (a 16.7 ms delta is a frame on time at 60 Hz, 33.3 ms one frame dropped);
 * - stalls: PerformanceObserver `longtask` (one task holding the main thread > 50 ms) and
 *   `long-animation-frame` (a frame whose script + style + layout + paint took > 50 ms).
 * - CPU: the renderer's main-thread and whole-process CPU time per frame (Chromium's own counters, over
 *   CDP). Wall-clock frame times on a shared, loaded machine mostly measure the scheduler; CPU time
 *   says what the app costs, and what a quiet machine would see.
 * The specs assert what renders, not these numbers: a loaded CI box inflates them whatever the app
 * does. FRAME_BUDGET_MS=20 (on a quiet machine) turns the goal into an assertion.
 */
export interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  /** the longest single main-thread task over 50 ms, 0 when there was none */
  longestTask: number;
  /** the longest animation frame over 50 ms (all work in one frame, not one task), 0 when none */
  longestFrame: number;
  /** renderer main-thread CPU time per frame (ms), when CDP is available */
  mainCpuPerFrame?: number;
  /** renderer process CPU time per frame (ms): main thread + compositor + raster + decode */
  rendererCpuPerFrame?: number;
}

const sessions = new WeakMap<Page, { cdp: CDPSession; at: Record<string, number> }>();

/** Chromium's counters for the page's renderer (seconds), or null where there is no CDP. */
async function counters(page: Page): Promise<{ cdp: CDPSession; at: Record<string, number> } | null> {
  try {
    const cdp = sessions.get(page)?.cdp ?? (await page.context().newCDPSession(page));
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    return { cdp, at: Object.fromEntries(metrics.map((m) => [m.name, m.value])) };
  } catch {
    return null;
  }
}

/** what the in-page recorder keeps on globalThis (the e2e tsconfig has no DOM lib) */
interface Recorder {
  requestAnimationFrame(cb: (t: number) => void): number;
  PerformanceObserver: new (cb: (list: { getEntries(): { duration: number }[] }) => void) => {
    observe(o: { type: string; buffered?: boolean }): void;
    takeRecords(): { duration: number }[];
    disconnect(): void;
  };
  __frameStats?: FrameRecord;
}

/**
 * What the page records. A scenario scripted in the page may set `from` and `to` (performance.now())
 * around what it does: only the frames that start inside count, not the idle frames spent on the
 * round trips that start and stop the recording.
 */
export interface FrameRecord {
  /** [frame start, time since the previous frame's start] */
  frames: [number, number][];
  tasks: number[];
  loafs: number[];
  from?: number;
  to?: number;
  stop: () => void;
}

/** Starts recording frame times and stalls in the page. */
export async function startFrames(page: Page): Promise<void> {
  const c = await counters(page);
  if (c) sessions.set(page, c);
  await page.evaluate(() => {
    const g = globalThis as unknown as Recorder;
    const frames: [number, number][] = [];
    const tasks: number[] = [];
    const loafs: number[] = [];
    let stopped = false;
    let last = -1;
    const tick = (t: number) => {
      // the callback's timestamp is the frame's start time: deltas are frame-to-frame, not whenever
      // the callback happened to run
      if (last >= 0) frames.push([t, t - last]);
      last = t;
      if (!stopped) g.requestAnimationFrame(tick);
    };
    g.requestAnimationFrame(tick);
    const observers = [
      ['longtask', tasks],
      ['long-animation-frame', loafs],
    ] as const;
    const live = observers.map(([type, into]) => {
      const o = new g.PerformanceObserver((list) => {
        for (const e of list.getEntries()) into.push(e.duration);
      });
      try {
        o.observe({ type });
      } catch {
        // an older engine without this entry type: that column stays empty
      }
      return [o, into] as const;
    });
    g.__frameStats = {
      frames,
      tasks,
      loafs,
      stop: () => {
        stopped = true;
        for (const [o, into] of live) {
          for (const e of o.takeRecords()) into.push(e.duration);
          o.disconnect();
        }
      },
    };
  });
}

/** Stops recording and returns the statistics of what was recorded since startFrames. */
export async function stopFrames(page: Page): Promise<FrameStats> {
  const raw = await page.evaluate(async () => {
    const g = globalThis as unknown as Recorder;
    // one more frame so the last interaction's frame is in the record
    await new Promise((r) => g.requestAnimationFrame(() => r(null)));
    const s = g.__frameStats!;
    s.stop();
    const from = s.from ?? -Infinity;
    const to = s.to ?? Infinity;
    // a frame counts when it ends inside the window: the first one shows the first step's cost
    return { frames: s.frames.filter(([t, d]) => t - d >= from - 1 && t - d <= to).map(([, d]) => d), tasks: s.tasks, loafs: s.loafs };
  });
  const before = sessions.get(page)?.at;
  const after = before ? (await counters(page))?.at : undefined;
  const perFrame = (name: string) => (before && after && raw.frames.length ? ((after[name]! - before[name]!) * 1000) / raw.frames.length : undefined);
  const t = [...raw.frames].sort((a, b) => a - b);
  const q = (p: number) => (t.length ? t[Math.min(t.length - 1, Math.floor(t.length * p))]! : 0);
  return {
    frames: t.length,
    p50: q(0.5),
    p95: q(0.95),
    max: t.at(-1) ?? 0,
    longestTask: Math.max(0, ...raw.tasks),
    longestFrame: Math.max(0, ...raw.loafs),
    mainCpuPerFrame: perFrame('ThreadTime'),
    rendererCpuPerFrame: perFrame('ProcessTime'),
  };
}

/** Records frames while `during` runs. */
export async function framesDuring(page: Page, during: () => Promise<void>): Promise<FrameStats> {
  await startFrames(page);
  await during();
  return stopFrames(page);
}

export function describeFrames(s: FrameStats): string {
  const stall = (ms: number) => (ms > 0 ? `${ms.toFixed(0)} ms` : 'none > 50 ms');
  const cpu = s.mainCpuPerFrame === undefined ? '' : `; CPU per frame: main thread ${s.mainCpuPerFrame.toFixed(1)} ms, renderer ${s.rendererCpuPerFrame?.toFixed(1)} ms`;
  return `p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (${s.frames} frames); longest task ${stall(s.longestTask)}, longest frame ${stall(s.longestFrame)}${cpu}`;
}

/** The machine's load when a measurement was taken: frame times mean little without it. */
export function machineLoad(): string {
  const [one, five] = loadavg();
  let cpus = '';
  try {
    cpus = `, ${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPUs`;
  } catch {
    // no nproc: the load average alone
  }
  return `load average ${one!.toFixed(2)} / ${five!.toFixed(2)} (1 / 5 min)${cpus}`;
}

/** Prints a benchmark's report, attaches it to the test, and checks the budget when one is set. */
export function report(testInfo: TestInfo, title: string, results: Record<string, FrameStats>, extra = ''): void {
  const lines = [`${title} (${machineLoad()})`, ...(extra ? [extra] : []), ...Object.entries(results).map(([k, s]) => `  ${k}: ${describeFrames(s)}`)];
  const text = lines.join('\n');
  console.log(text);
  testInfo.annotations.push({ type: title, description: text });
  void testInfo.attach(`${title}.json`, { body: JSON.stringify({ load: loadavg(), results }, null, 2), contentType: 'application/json' });
}

/** FRAME_BUDGET_MS, when set: the p95 frame every measured interaction has to stay under. */
export function frameBudget(): number | null {
  const v = Number(process.env.FRAME_BUDGET_MS);
  return Number.isFinite(v) && v > 0 ? v : null;
}
