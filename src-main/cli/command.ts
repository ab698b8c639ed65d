import type { ParseArgsConfig } from 'node:util';
import type { Catalog } from '../services/catalog/catalog';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CliContext {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** the catalog named by --catalog (or the default), opened on first use and closed by main */
  catalog(): Catalog;
  catalogDir: string;
  json: boolean;
  /** aborted on Ctrl-C; main also cancels the catalog's jobs */
  signal: AbortSignal;
  /** a line of progress or log on stderr */
  log(message: string): void;
  /** web mode, for `serve`: handed in by the entry that starts the CLI (src-main/entries/cli.ts), absent in tests */
  webMode?(): Promise<WebMode>;
}

/**
 * Web mode as `serve` starts it. The CLI does not import the web face (server/): the entry hands it in,
 * so each face stays on its own and the command list loads nothing of the server until `serve` runs.
 */
export interface WebMode {
  /** builds the UI when it is missing (or older than its sources, when asked) */
  prepare(opts: { rebuildStale: boolean; log(message: string): void }): Promise<void>;
  start(catalog: Catalog, opts: { port: number }): Promise<{ url: string; close(): Promise<void> }>;
}

/** One CLI command. Files in ./commands export `command`; the file name is the command name. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options?: OptionSpec;
  /**
   * only reads the catalog: opened without its write lock, so it runs while the app or another
   * command writes (and never keeps them from starting)
   */
  readOnly?: boolean;
  /** returns the JSON result printed with --json */
  run(ctx: CliContext): Promise<object>;
  /** a readable summary for humans; defaults to key: value lines */
  human?(result: object): string;
}

export function stringOpt(ctx: CliContext, name: string): string | undefined {
  const x = ctx.values[name];
  if (x === undefined || typeof x === 'string') return x;
  throw new UsageError(`--${name} takes a value`);
}

export function intOpt(ctx: CliContext, name: string, min = 0): number | undefined {
  const s = stringOpt(ctx, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${s}`);
  return n;
}

export function numberOpt(ctx: CliContext, name: string): number | undefined {
  const s = stringOpt(ctx, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${s}`);
  return n;
}

/** `--set key=value` (repeatable) as typed overrides: numbers and booleans parsed, the rest strings. */
export function setOverrides(ctx: CliContext): Record<string, unknown> {
  return parseSetPairs((ctx.values.set as string[] | undefined) ?? []);
}

/** `key=value` strings as typed overrides (what `--set` takes; the profiling script shares it). */
export function parseSetPairs(pairs: string[]): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const kv of pairs) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new UsageError(`--set takes key=value, got ${kv}`);
    const raw = kv.slice(eq + 1);
    overrides[kv.slice(0, eq)] = raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  return overrides;
}
