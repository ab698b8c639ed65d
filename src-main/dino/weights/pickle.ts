// A minimal, safe unpickler for PyTorch checkpoints.
//
// A pickle is a program: GLOBAL names any importable Python callable and REDUCE calls it, which is
// how a malicious checkpoint runs code. This VM never runs anything from the file. Every GLOBAL is
// looked up in an allow-list of names that a state dict legitimately uses (OrderedDict, tensor
// rebuild functions, storage types, argparse.Namespace, numpy scalars); each maps to a small
// TypeScript function that builds plain data. Any other name stops the read at the GLOBAL opcode,
// before anything could be called, with an error naming it.
// Covers the opcodes of protocols 0-5 that data pickles use; extension-registry and out-of-band
// buffer opcodes are refused.

import { WeightsFormatError } from './tensor-map';

/** A Python object we know how to build, by qualified name. */
export interface PyGlobal {
  readonly qualname: string;
  /** REDUCE (calling it) or NEWOBJ (cls.__new__(cls, *args)). */
  call(args: PyValue[]): PyValue;
}

/** An instance of an allow-listed class (argparse.Namespace, numpy.dtype): its BUILD state kept as data. */
export class PyObject {
  constructor(
    readonly className: string,
    readonly args: PyValue[],
    public state: PyValue = null,
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyKey, PyValue>
  | Set<PyKey>
  | PyObject
  | PyGlobal
  | object; // values made by allow-listed globals (tensors, storages)

export class UnsafePickleError extends WeightsFormatError {
  override name = 'UnsafePickleError';
}

export interface UnpickleOptions {
  /** Allow-listed globals by "module.name" (module and name as the pickle spells them). */
  globals: ReadonlyMap<string, PyGlobal>;
  /** PyTorch stores tensor storages out of band: BINPERSID hands the persistent id here. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Names the file in errors. */
  label?: string;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

function asKey(k: PyValue, label: string): PyKey {
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
  // tuples as dict keys are rare in checkpoints: keep them usable under a readable key
  if (Array.isArray(k)) return JSON.stringify(k, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  throw new WeightsFormatError(`${label}: unsupported dictionary key type in pickle`);
}

/** Runs the pickle in `bytes` from `start`; returns the value at STOP and where the pickle ended. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions, start = 0): { value: PyValue; end: number } {
  try {
    return run(bytes, opts, start);
  } catch (err) {
    if (err instanceof WeightsFormatError) throw err;
    // anything else (a malformed number literal, a bad UTF-8 string...) is a corrupt pickle too
    throw new WeightsFormatError(`${opts.label ?? 'pickle'}: corrupt pickle (${(err as Error).message})`);
  }
}

function run(bytes: Uint8Array, opts: UnpickleOptions, start: number): { value: PyValue; end: number } {
  const label = opts.label ?? 'pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const text = new TextDecoder('utf-8');
  let pos = start;

  const fail = (msg: string): never => {
    throw new WeightsFormatError(`${label}: ${msg} (pickle offset ${pos})`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail('the pickle is truncated');
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle is truncated');
    const s = Buffer.from(bytes.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('stack underflow');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('stack underflow');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('MARK not found');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const g = opts.globals.get(`${module}.${name}`);
    if (!g) {
      throw new UnsafePickleError(
        `${label}: refused to load: the pickle references the Python global '${module}.${name}', which is not a tensor or ` +
          'state-dict type. Checkpoints can run code through such references; this reader never does.',
      );
    }
    return g;
  };
  const callable = (f: PyValue, what: string): PyGlobal => {
    if (f && typeof f === 'object' && 'call' in f && 'qualname' in f) return f as PyGlobal;
    return fail(`${what} of a value that is not an allow-listed global`);
  };
  const longFrom = (b: Uint8Array): number | bigint => {
    // little-endian two's complement of any length
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: PyValue, items: PyValue[]) => {
    if (!(target instanceof Map)) fail('SETITEM on a value that is not a dict');
    const m = target as Map<PyKey, PyValue>;
    for (let i = 0; i + 1 < items.length; i += 2) m.set(asKey(items[i]!, label), items[i + 1]!);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME: a length prefix only, the opcodes follow inline
        take(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack.pop() === undefined) fail('stack underflow');
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(longFrom(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFrom(take(u32())));
        break;
      case 0x49: {
        // INT (text): also encodes True/False in protocol 0 as 01/00
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: {
        // LONG (text), with a trailing L
        const s = line().replace(/L$/, '');
        const v = BigInt(s);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(text.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text.decode(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))));
        break;
      case 0x54: // BINSTRING (Python 2 str): latin-1 text
        stack.push(Buffer.from(take(i32())).toString('latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(Buffer.from(take(u8())).toString('latin1'));
        break;
      case 0x53: {
        // STRING (quoted repr); only simple quoted text is expected in checkpoints
        const s = line();
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(new Uint8Array(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new Uint8Array(take(u8())));
        break;
      case 0x8e: // BINBYTES8
        stack.push(new Uint8Array(take(u64())));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(new Uint8Array(take(u64())));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail('APPEND to a value that is not a list');
        (l as PyValue[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('APPENDS to a value that is not a list');
        (l as PyValue[]).push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const m = new Map<PyKey, PyValue>();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS to a value that is not a set');
        for (const it of items) (s as Set<PyKey>).add(asKey(it, label));
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark().map((v) => asKey(v, label))));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n": refused here, before anything can call it, unless allow-listed
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: f(*args), f necessarily an allow-listed global
        const args = pop();
        const f = callable(pop(), 'REDUCE');
        if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
        stack.push(f.call(args as PyValue[]));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = callable(pop(), 'NEWOBJ');
        stack.push(cls.call(Array.isArray(args) ? (args as PyValue[]) : []));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: keyword arguments are not used by any allow-listed class
        pop();
        const args = pop();
        const cls = callable(pop(), 'NEWOBJ_EX');
        stack.push(cls.call(Array.isArray(args) ? (args as PyValue[]) : []));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" (protocol 0): MARK args ... -> instance
        const module = line();
        const name = line();
        const g = findGlobal(module, name);
        stack.push(g.call(popMark()));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args ... -> instance
        const items = popMark();
        const cls = callable(items.shift() ?? null, 'OBJ');
        stack.push(cls.call(items));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state), done as data only
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        else if (obj instanceof Map && state instanceof Map) for (const [k, v] of state) obj.set(k, v);
        else if (obj && typeof obj === 'object' && 'setState' in obj && typeof obj.setState === 'function') (obj as { setState(s: PyValue): void }).setState(state);
        // other built objects (tensors) ignore their state, as torch's own _rebuild functions do
        break;
      }
      case 0x51: {
        // BINPERSID: torch's reference to a storage record
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id in a pickle that does not allow them');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = line();
        if (!opts.persistentLoad) fail('persistent id in a pickle that does not allow them');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(idx)) fail(`memo entry ${idx} missing`);
        stack.push(memo.get(idx)!);
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        throw new UnsafePickleError(`${label}: refused to load: the pickle uses the copyreg extension registry (EXT opcodes), which this reader does not allow`);
      case 0x97:
      case 0x98:
        fail('out-of-band pickle buffers are not supported');
        break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or a corrupt one)`);
    }
  }
}
