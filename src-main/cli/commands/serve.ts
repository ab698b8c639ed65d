import { startImport } from '../../services/jobs/start-jobs';
import { libraryIsEmpty } from '../../services/photos/photo-pages';
import { sampleInfo } from '../../services/photos/sample-photos';
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
    if (!ctx.webMode) throw new Error('web mode is not part of this build of the CLI');
    const web = await ctx.webMode();
    await web.prepare({ log: ctx.log, rebuildStale: Boolean(ctx.values.build) });
    const catalog = ctx.catalog();
    const server = await web.start(catalog, { port });
    process.stdout.write(`listening on ${server.url}\n`);

    if (ctx.values['samples-if-empty'] && libraryIsEmpty(catalog)) {
      try {
        const { path } = await sampleInfo();
        ctx.log(`the catalog is empty: importing the sample photos from ${path}`);
        startImport(catalog, [path]);
      } catch (e) {
        ctx.log(`cannot import the sample photos: ${e instanceof Error ? e.message : String(e)}`);
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
