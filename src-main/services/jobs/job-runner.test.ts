import { describe, expect, it } from 'vitest';
import type { JobDTO } from '../../../src-shared/api';
import { CancelledError, Jobs, KEEP_FINISHED } from './job-runner';
import { runInWorker } from '../threads/worker-host';

const countWorker = new URL('../../testing/count-worker.ts', import.meta.url);

describe('Jobs', () => {
  it('reports progress, rate and the result', async () => {
    const jobs = new Jobs();
    const seen: JobDTO[] = [];
    jobs.on('progress', (j) => seen.push(j));
    const { id, promise } = jobs.start('import', async (ctx) => {
      ctx.progress({ phase: 'work', total: 3 });
      for (let i = 1; i <= 3; i++) {
        await ctx.checkpoint();
        ctx.progress({ done: i, counts: { found: i } });
      }
      return 42;
    });
    expect(await promise).toBe(42);
    const final = jobs.get(id)!;
    expect(final.state).toBe('done');
    expect(final.result).toBe(42);
    expect(final.counts.found).toBe(3);
    expect(seen.at(-1)!.state).toBe('done');
    // every event is newer than the one before, so a client can drop stale snapshots
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.version).toBeGreaterThan(seen[i - 1]!.version);
    expect(jobs.get(id)!.version).toBe(seen.at(-1)!.version);
  });

  it('cancels a job waiting at a checkpoint and marks it cancelled', async () => {
    const jobs = new Jobs();
    const { id, promise } = jobs.start('train', async (ctx) => {
      for (;;) {
        await ctx.checkpoint();
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    setTimeout(() => jobs.cancel(id), 20);
    await expect(promise).rejects.toBeInstanceOf(CancelledError);
    expect(jobs.get(id)!.state).toBe('cancelled');
  });

  it('pauses and resumes', async () => {
    const jobs = new Jobs();
    let steps = 0;
    const { id, promise } = jobs.start('train', async (ctx) => {
      while (steps < 10) {
        await ctx.checkpoint();
        steps++;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    await new Promise((r) => setTimeout(r, 15));
    expect(jobs.pause(id)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    const atPause = steps;
    await new Promise((r) => setTimeout(r, 50));
    expect(steps).toBeLessThanOrEqual(atPause + 1);
    expect(jobs.get(id)!.state).toBe('paused');
    expect(jobs.resume(id)).toBe(true);
    await promise;
    expect(steps).toBe(10);
  });

  it('runs nothing of the job inside start(): the caller answers first', async () => {
    const jobs = new Jobs();
    let ran = false;
    const { promise } = jobs.start('export', async () => {
      ran = true; // a job's synchronous first part (a loop, a file read)
    });
    expect(ran).toBe(false);
    await promise;
    expect(ran).toBe(true);
  });

  it('gives the event loop a turn from checkpoint(), even when every step resolves at once', async () => {
    const jobs = new Jobs();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = Date.now();
    const { promise } = jobs.start('export', async (ctx) => {
      // 300 ms of steps that never wait on I/O: a timer must still fire all along
      while (Date.now() - t0 < 300) await ctx.checkpoint();
    });
    await promise;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });

  it('honours a cancel at the next checkpoint of a job that never waits', async () => {
    const jobs = new Jobs();
    const { id, promise } = jobs.start('export', async (ctx) => {
      for (;;) await ctx.checkpoint();
    });
    const t0 = Date.now();
    setTimeout(() => jobs.cancel(id), 50);
    await expect(promise).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('keeps the job list bounded: the newest finished jobs, and every live one', async () => {
    const jobs = new Jobs();
    let release!: () => void;
    const live = jobs.start('train', () => new Promise<void>((r) => (release = r)));
    for (let i = 0; i < KEEP_FINISHED + 30; i++) await jobs.start('export', async () => i).promise;
    const list = jobs.list();
    expect(list.length).toBe(KEEP_FINISHED + 1);
    expect(list.some((j) => j.id === live.id && j.state === 'running')).toBe(true);
    // the oldest finished ones went first
    expect(list.filter((j) => j.state === 'done').map((j) => j.result)).toEqual(Array.from({ length: KEEP_FINISHED }, (_, i) => i + 30));
    release();
    await live.promise;
  });

  it('records a failure with its message', async () => {
    const jobs = new Jobs();
    const { id, promise } = jobs.start('export', async () => {
      throw new Error('disk full');
    });
    await expect(promise).rejects.toThrow('disk full');
    expect(jobs.get(id)).toMatchObject({ state: 'failed', error: 'disk full' });
  });
});

describe('runInWorker', () => {
  it('runs a TypeScript module in a worker and relays events and the result', async () => {
    const events: number[] = [];
    const r = await runInWorker<{ n: number; delayMs: number }, number, { counted: number }>(countWorker, { n: 5, delayMs: 1 }, undefined, (e) => events.push(e));
    expect(r).toEqual({ counted: 5 });
    expect(events).toEqual([0, 1, 2, 3, 4]);
  });

  it('relays a worker error', async () => {
    await expect(runInWorker(countWorker, { n: 5, delayMs: 1, fail: true }, undefined, () => undefined)).rejects.toThrow('boom at 2');
  });

  it('cancels the worker with its job', async () => {
    const jobs = new Jobs();
    const events: number[] = [];
    const { id, promise } = jobs.start('embed', (ctx) => runInWorker(countWorker, { n: 1000, delayMs: 5 }, ctx, (e: number) => events.push(e)));
    setTimeout(() => jobs.cancel(id), 100);
    await expect(promise).rejects.toBeInstanceOf(CancelledError);
    expect(events.length).toBeLessThan(1000);
  });
});
