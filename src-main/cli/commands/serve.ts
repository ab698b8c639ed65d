import { ensureRendererBuilt, rendererState } from '../../server/renderer-build';
import { startServer } from '../../server/server';
import { dispatch } from '../../api/table';
import { countByStatus } from '../../db/repos/images';
import { intOpt, type Command } from '../command';

export const command: Command = {
  name: 'serve',
  summary: 'serve the app in a browser (web mode) on 127.0.0.1 with a per-start token',
  usage: 'serve [--port N] [--build] [--samples-if-empty] [--catalog DIR]',
  options: {
    port: { type: 'string' },
    // rebuild the UI first when its sources are newer than out/renderer (it is always built when missing)
    build: { type: 'boolean' },
    // used by `npm start`: a first-time user sees the bundled sample photos instead of an empty grid
    'samples-if-empty': { type: 'boolean' },
  },
  async run(ctx) {
    const port = intOpt(ctx, 'port', 0) ?? 0;
    if (port > 65535) throw new Error(`--port must be at most 65535, got ${port}`);
    await ensureRendererBuilt({ log: ctx.log, rebuildStale: Boolean(ctx.values.build) });
    if (rendererState() === 'stale') ctx.log('note: the built UI is older than its sources; run `npm run build` to refresh it');
    const catalog = ctx.catalog();
    const server = await startServer(catalog, { port });
    process.stdout.write(`listening on ${server.url}\n`);

    if (ctx.values['samples-if-empty']) {
      const counts = countByStatus(catalog.db);
      if (counts.ok + counts.failed === 0) {
        const samples = await dispatch(server.table, 'library:samples', {});
        if ('error' in samples) ctx.log(`cannot import the sample photos: ${samples.error}`);
        else {
          const { path } = samples.result as { path: string };
          ctx.log(`the catalog is empty: importing the sample photos from ${path}`);
          const started = await dispatch(server.table, 'library:import', { folders: [path] });
          if ('error' in started) ctx.log(`cannot import the sample photos: ${started.error}`);
        }
      }
    }

    // Runs until Ctrl-C (main aborts ctx.signal) or SIGTERM; main then closes the catalog cleanly.
    const stoppedBy = await new Promise<string>((done) => {
      const onTerm = (): void => done('SIGTERM');
      process.once('SIGTERM', onTerm);
      ctx.signal.addEventListener('abort', () => {
        process.off('SIGTERM', onTerm);
        done('SIGINT');
      }, { once: true });
    });
    await server.close();
    return { url: server.url.replace(/token=.*/, 'token=…'), stoppedBy };
  },
};
