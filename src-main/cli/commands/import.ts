import type { ImportResult } from '../../../src-shared/api';
import { intOpt, UsageError, type Command } from '../command';
import { startImport } from '../../services/jobs/start-jobs';

export const command: Command = {
  name: 'import',
  summary: 'import photo folders into the catalog (incremental: unchanged photos are skipped)',
  usage: 'import FOLDER... [--concurrency N] [--catalog DIR] [--json]',
  options: { concurrency: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length === 0) throw new UsageError('name at least one folder to import');
    const concurrency = intOpt(ctx, 'concurrency', 1);
    const job = startImport(ctx.catalog(), ctx.positionals, concurrency === undefined ? {} : { concurrency });
    return await job.promise;
  },
  human(result) {
    const r = result as ImportResult;
    const lines = [
      `imported ${r.imported}, unchanged ${r.unchanged}, updated ${r.updated}, removed ${r.removed}, failed ${r.failed.length} in ${r.seconds.toFixed(1)} s`,
    ];
    for (const f of r.failed) lines.push(`  failed: ${f.path}: ${f.reason}`);
    return lines.join('\n');
  },
};
