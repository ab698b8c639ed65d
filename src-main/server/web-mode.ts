import type { Catalog } from '../services/catalog/catalog';
import { ensureRendererBuilt, rendererState } from './renderer-build';
import { startServer } from './server';

/** Web mode as the CLI's `serve` starts it (the entry hands it to the CLI: src-main/entries/cli.ts). */
export const webMode = {
  async prepare(opts: { rebuildStale: boolean; log(message: string): void }): Promise<void> {
    await ensureRendererBuilt({ log: opts.log, rebuildStale: opts.rebuildStale });
    if (rendererState() === 'stale') opts.log('note: the built UI is older than its sources; run `npm run build` to refresh it');
  },
  start: (catalog: Catalog, opts: { port: number }) => startServer(catalog, { port: opts.port }),
};
