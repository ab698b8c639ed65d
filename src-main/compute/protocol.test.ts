import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { nodePortChannel, runJob } from '../services/threads/job-channel';
import { CancelledError, Jobs } from '../services/jobs/job-runner';
import { serveJobPort, type JobBody } from './protocol';

// The protocol's two halves on one Node MessageChannel: serveJobPort (the GPU window's page) and
// runJob (the main process), as gpu-window.test.ts runs them across threads.
const ports: MessagePort[] = [];

function serve(bodies: Record<string, JobBody<never, unknown, unknown>>) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  serveJobPort({ postMessage: (m) => port2.postMessage(m), addEventListener: (_t, l) => port2.on('message', (data) => l({ data })), start: () => port2.start() }, bodies);
  return nodePortChannel(port1);
}

describe('the job protocol over a port', () => {
  afterEach(() => {
    for (const p of ports.splice(0)) p.close();
  });

  it('runs the body a start names, relays its events and its requests, and its result', async () => {
    const channel = serve({
      sum: async (side) => {
        const { n } = side.data as { n: number };
        let total = 0;
        for (let i = 0; i < n; i++) {
          total += await side.request<number>({ square: i });
          side.post(total);
        }
        return { total };
      },
    });
    channel.post({ type: 'start', kind: 'sum', data: { n: 4 } });
    const events: number[] = [];
    const r = await runJob(channel, undefined, (e: number) => events.push(e), { serve: async (q) => ({ reply: (q as { square: number }).square ** 2 }) });
    expect(r).toEqual({ total: 14 });
    expect(events).toEqual([0, 1, 5, 14]);
  });

  it("fails with the body's error, a request the host refuses, or a kind the page does not have", async () => {
    const asks = serve({ asks: async (side) => side.request('photos') });
    asks.post({ type: 'start', kind: 'asks', data: null });
    await expect(runJob(asks, undefined, () => undefined, { serve: async () => Promise.reject(new Error('no such photo')) })).rejects.toThrow('no such photo');
    const unknown = serve({});
    unknown.post({ type: 'start', kind: 'mine', data: null });
    await expect(runJob(unknown, undefined, () => undefined)).rejects.toThrow('the GPU window has no job "mine"');
  });

  it("pauses, resumes and cancels with the host's job, and a closed port is the compute side's loss", async () => {
    const jobs = new Jobs();
    const steps: number[] = [];
    const channel = serve({
      count: async (side) => {
        for (let i = 0; ; i++) {
          await side.checkpoint();
          side.post(i);
          await new Promise((r) => setTimeout(r, 2));
        }
      },
    });
    channel.post({ type: 'start', kind: 'count', data: null });
    const { id, promise } = jobs.start('embed', (ctx) => runJob(channel, ctx, (e: number) => steps.push(e)));
    await expect.poll(() => steps.length).toBeGreaterThan(3);
    jobs.pause(id);
    await new Promise((r) => setTimeout(r, 50));
    const whilePaused = steps.length;
    await new Promise((r) => setTimeout(r, 100));
    // at most the step under way when the pause came
    expect(steps.length - whilePaused).toBeLessThanOrEqual(1);
    jobs.resume(id);
    await expect.poll(() => steps.length).toBeGreaterThan(whilePaused + 3);
    jobs.cancel(id);
    await expect(promise).rejects.toBeInstanceOf(CancelledError);

    const lost = serve({ count: async () => new Promise(() => undefined) });
    lost.post({ type: 'start', kind: 'count', data: null });
    const running = runJob(lost, undefined, () => undefined);
    ports.at(-1)!.close();
    await expect(running).rejects.toThrow("the job's port closed before its result came");
  });
});
