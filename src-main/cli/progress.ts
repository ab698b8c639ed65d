import type { JobDTO } from '../../src-shared/api';

/** Job progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise. */
export class ProgressPrinter {
  private lastLine = 0;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  job(job: JobDTO): void {
    const pct = job.total > 0 ? Math.floor((100 * job.done) / job.total) : null;
    const counts = Object.entries(job.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    const eta = job.etaSeconds === null ? '' : ` eta ${formatSeconds(job.etaSeconds)}`;
    const rate = job.rate > 0 ? ` ${job.rate.toFixed(job.rate < 10 ? 2 : 0)}/s` : '';
    const head = `${job.kind} ${job.phase}`;
    const amount = job.total > 0 ? ` ${job.done}/${job.total}${pct === null ? '' : ` (${pct}%)`}` : job.done ? ` ${job.done}` : '';
    const line = `${head}${amount}${rate}${eta}${counts ? ` [${counts}]` : ''}${job.error ? ` error: ${job.error}` : ''}`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 100) - 1)}`);
      this.drawn = true;
      if (job.state !== 'running' && job.state !== 'paused') this.end();
    } else {
      const now = Date.now();
      if (now - this.lastLine > 2000 || job.state !== 'running') {
        this.lastLine = now;
        this.out.write(`${line}\n`);
      }
    }
  }

  log(message: string): void {
    this.end();
    this.out.write(`${message}\n`);
  }

  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
