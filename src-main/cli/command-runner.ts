import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JobDTO } from '../../src-shared/api';
import { defaultCatalogDir, openCatalog, type Catalog } from '../services/catalog/catalog';
import { UsageError, type CliContext, type Command, type WebMode } from './command';
import { COMMANDS } from './command-list';
import { ProgressPrinter } from './progress';

function commandNames(): string[] {
  return Object.keys(COMMANDS).sort();
}

async function loadCommand(name: string): Promise<Command | undefined> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return load ? (await load()).command : undefined;
}

async function help(): Promise<string> {
  const lines = ['usage: dino-explorer <command> [options]', '', 'commands:'];
  for (const n of commandNames()) {
    const c = await loadCommand(n);
    if (c) lines.push(`  ${c.name.padEnd(16)} ${c.summary}`);
  }
  lines.push('', 'every command takes --catalog DIR and --json; see `dino-explorer <command> --help`');
  return lines.join('\n');
}

function humanize(result: object): string {
  return Object.entries(result)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}

/** The faces a command may start besides the CLI itself (`serve`: web mode), handed in by the entry. */
export interface OtherFaces {
  webMode?(): Promise<WebMode>;
}

/** Runs one command; returns the exit status (0 done, 1 failed, 2 bad usage). */
export async function main(argv: string[], faces: OtherFaces = {}): Promise<number> {
  const name = argv[0];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await help()}\n`);
    return name ? 0 : 2;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`unknown command: ${name}\n\n${await help()}\n`);
    return 2;
  }
  const json = argv.includes('--json');
  let catalog: Catalog | undefined;
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping (Ctrl-C again to force)...\n');
    controller.abort();
    catalog?.jobs.cancelAll();
  };
  process.on('SIGINT', onSigint);
  const progress = new ProgressPrinter(process.stderr);
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv.slice(1),
        allowPositionals: true,
        options: {
          catalog: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
          ...command.options,
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (parsed.values.help) {
      process.stdout.write(`usage: dino-explorer ${command.usage}\n\n${command.summary}\n`);
      return 0;
    }
    const catalogDir = resolve((parsed.values.catalog as string | undefined) ?? defaultCatalogDir());
    const ctx: CliContext = {
      positionals: parsed.positionals,
      values: parsed.values as CliContext['values'],
      catalogDir,
      json,
      signal: controller.signal,
      log: (m) => progress.log(m),
      webMode: faces.webMode,
      catalog: () => {
        if (!catalog) {
          catalog = openCatalog(catalogDir, { readOnly: command.readOnly === true, face: `dino-explorer ${name}` });
          catalog.jobs.on('progress', (job: JobDTO) => progress.job(job));
        }
        return catalog;
      },
    };
    const result = await command.run(ctx);
    progress.end();
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${(command.human ?? humanize)(result)}\n`);
    return 0;
  } catch (e) {
    progress.end();
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) {
      process.stderr.write(`${message}\nusage: dino-explorer ${command.usage}\n`);
      if (json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
      return 2;
    }
    if (json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    else process.stderr.write(`error: ${message}\n`);
    if (process.env.DINO_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await catalog?.close();
  }
}
