import type { ArgsOf, Envelope, InvokeChannel, ResultOf } from '../../src-shared/api';
import { INVOKE_CHANNELS } from '../../src-shared/api';
import type { Catalog } from '../services/catalog/catalog';
import { BadRequestError, type Check } from './validate';

export interface Route<C extends InvokeChannel> {
  check: Check<ArgsOf<C>>;
  handle(args: ArgsOf<C>): Promise<ResultOf<C>> | ResultOf<C>;
}

export type ApiTable = { [C in InvokeChannel]?: Route<C> };

/** What differs between faces: a native folder dialog exists only in Electron. */
export interface Face {
  kind: 'electron' | 'web' | 'cli';
  pickFolder?(): Promise<string | null>;
}

export type ApiModule = (catalog: Catalog, face: Face) => ApiTable;

/** Builds the one table every face serves, from the feature modules. */
export function createApi(catalog: Catalog, face: Face, modules: readonly ApiModule[]): ApiTable {
  const table: ApiTable = {};
  for (const m of modules) {
    const part = m(catalog, face);
    for (const key of Object.keys(part) as InvokeChannel[]) {
      if (table[key]) throw new Error(`channel ${key} is defined twice`);
      (table as Record<string, unknown>)[key] = part[key];
    }
  }
  return table;
}

export function isChannel(name: string): name is InvokeChannel {
  return (INVOKE_CHANNELS as readonly string[]).includes(name);
}

/** Validates and runs one call; every failure becomes `{ error }` so no face leaks a stack trace. */
export async function dispatch(table: ApiTable, channel: string, rawArgs: unknown): Promise<Envelope<unknown>> {
  if (!isChannel(channel)) return { error: `unknown channel ${channel}` };
  const route = table[channel] as Route<InvokeChannel> | undefined;
  if (!route) return { error: `${channel} is not available in this version` };
  try {
    const args = route.check(rawArgs ?? {}, 'arguments');
    return { result: await route.handle(args as never) };
  } catch (e) {
    if (e instanceof BadRequestError) return { error: `bad request: ${e.message}` };
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
