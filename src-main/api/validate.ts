// Tiny argument validators: every handler checks what a renderer or HTTP client sent before use.
// Fields are read as own properties only ("toString" or "__proto__" is a name like any other, never
// something inherited), and integers must be safe integers (1e300 is an integer to JavaScript).

export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

export type Check<T> = (value: unknown, where: string) => T;

export const v = {
  string: (opts: { min?: number; max?: number } = {}): Check<string> => (x, w) => {
    if (typeof x !== 'string') throw new BadRequestError(`${w} must be a string`);
    if (opts.min !== undefined && x.length < opts.min) throw new BadRequestError(`${w} is too short`);
    if (opts.max !== undefined && x.length > opts.max) throw new BadRequestError(`${w} is too long`);
    return x;
  },
  int: (opts: { min?: number; max?: number } = {}): Check<number> => (x, w) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new BadRequestError(`${w} must be an integer (at most ${Number.MAX_SAFE_INTEGER} in size)`);
    if (opts.min !== undefined && x < opts.min) throw new BadRequestError(`${w} must be at least ${opts.min}`);
    if (opts.max !== undefined && x > opts.max) throw new BadRequestError(`${w} must be at most ${opts.max}`);
    return x;
  },
  number: (opts: { min?: number; max?: number } = {}): Check<number> => (x, w) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new BadRequestError(`${w} must be a number`);
    if (opts.min !== undefined && x < opts.min) throw new BadRequestError(`${w} must be at least ${opts.min}`);
    if (opts.max !== undefined && x > opts.max) throw new BadRequestError(`${w} must be at most ${opts.max}`);
    return x;
  },
  boolean: (): Check<boolean> => (x, w) => {
    if (typeof x !== 'boolean') throw new BadRequestError(`${w} must be true or false`);
    return x;
  },
  literal: <L extends string>(...allowed: L[]): Check<L> => (x, w) => {
    if (typeof x !== 'string' || !(allowed as string[]).includes(x)) throw new BadRequestError(`${w} must be one of ${allowed.join(', ')}`);
    return x as L;
  },
  array: <T>(item: Check<T>, opts: { max?: number } = {}): Check<T[]> => (x, w) => {
    if (!Array.isArray(x)) throw new BadRequestError(`${w} must be a list`);
    if (opts.max !== undefined && x.length > opts.max) throw new BadRequestError(`${w} has too many items`);
    return x.map((e, i) => item(e, `${w}[${i}]`));
  },
  /** an object with free keys (identifier-like, at most opts.max of them), every value checked by `item` */
  record: <T>(item: Check<T>, opts: { max?: number } = {}): Check<Record<string, T>> => (x, w) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new BadRequestError(`${w} must be an object`);
    const entries = Object.entries(x);
    if (opts.max !== undefined && entries.length > opts.max) throw new BadRequestError(`${w} has too many fields`);
    for (const [k] of entries) {
      // __proto__, constructor, toString...: names every object answers to, which a consumer could
      // mistake for (or, on assignment, turn into) something inherited
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) || k in Object.prototype) throw new BadRequestError(`${w} has a bad field name`);
    }
    // own data properties only (fromEntries defines, never assigns)
    return Object.fromEntries(entries.map(([k, value]) => [k, item(value, `${w}.${k}`)]));
  },
  optional: <T>(c: Check<T>): Check<T | undefined> => (x, w) => (x === undefined || x === null ? undefined : c(x, w)),
  oneOf: <A, B>(a: Check<A>, b: Check<B>): Check<A | B> => (x, w) => {
    try {
      return a(x, w);
    } catch {
      return b(x, w);
    }
  },
  object: <S extends Record<string, Check<unknown>>>(shape: S): Check<{ [K in keyof S]: ReturnType<S[K]> }> => (x, w) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new BadRequestError(`${w} must be an object`);
    const extra = Object.keys(x).filter((k) => !Object.hasOwn(shape, k));
    if (extra.length) throw new BadRequestError(`${w} has unknown field ${extra[0]!.slice(0, 64)}`);
    const out: Record<string, unknown> = {};
    for (const [k, c] of Object.entries(shape)) {
      const value = c(Object.hasOwn(x, k) ? (x as Record<string, unknown>)[k] : undefined, `${w}.${k}`);
      if (value !== undefined) out[k] = value;
    }
    return out as { [K in keyof S]: ReturnType<S[K]> };
  },
};

export const noArgs = v.object({});
