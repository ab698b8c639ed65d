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

import { PickleBudget } from './pickle-budget';
import { PickleCursor } from './pickle-cursor';
import { NOT_LITERAL, readLiteral } from './pickle-literals';
import { PyObject, UnsafePickleError, type PyGlobal, type PyKey, type PyValue } from './pickle-values';
import { WeightsFormatError, shown } from './tensor-map';

export { PyObject, UnsafePickleError, type PyGlobal, type PyKey, type PyValue } from './pickle-values';

export interface UnpickleOptions {
  /** Allow-listed globals by "module.name" (module and name as the pickle spells them). */
  globals: ReadonlyMap<string, PyGlobal>;
  /** PyTorch stores tensor storages out of band: BINPERSID hands the persistent id here. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Names the file in errors. */
  label?: string;
  /** the work this pickle may do (see pickle-budget); default: by the bytes from `start` to the end */
  budget?: PickleBudget;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Runs the pickle in `bytes` from `start`; returns the value at STOP and where the pickle ended. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions, start = 0): { value: PyValue; end: number } {
  try {
    return run(bytes, opts, start);
  } catch (err) {
    if (err instanceof WeightsFormatError) throw err;
    // anything else (a malformed number literal, a bad UTF-8 string...) is a corrupt pickle too
    throw new WeightsFormatError(`${opts.label ?? 'pickle'}: corrupt pickle (${shown((err as Error).message)})`);
  }
}

function run(bytes: Uint8Array, opts: UnpickleOptions, start: number): { value: PyValue; end: number } {
  const label = opts.label ?? 'pickle';
  const cur = new PickleCursor(bytes, label, start);
  const fail = (msg: string): never => cur.fail(msg);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const work = opts.budget ?? new PickleBudget(label, bytes.length - start);

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
    work.spend(items.length);
    return items;
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const g = opts.globals.get(`${module}.${name}`);
    if (!g) {
      throw new UnsafePickleError(
        `${label}: refused to load: the pickle references the Python global '${shown(`${module}.${name}`)}', which is not a tensor or ` +
          'state-dict type. Checkpoints can run code through such references; this reader never does.',
      );
    }
    return g;
  };
  const callable = (f: PyValue, what: string): PyGlobal => {
    if (f && typeof f === 'object' && 'call' in f && 'qualname' in f) return f as PyGlobal;
    return fail(`${what} of a value that is not an allow-listed global`);
  };
  const setItems = (target: PyValue, items: PyValue[]) => {
    if (!(target instanceof Map)) fail('SETITEM on a value that is not a dict');
    const m = target as Map<PyKey, PyValue>;
    for (let i = 0; i + 1 < items.length; i += 2) m.set(work.key(items[i]!), items[i + 1]!);
  };

  for (;;) {
    const op = cur.u8();
    work.spend(1);
    const literal = readLiteral(op, cur);
    if (literal !== NOT_LITERAL) {
      stack.push(literal);
      continue;
    }
    switch (op) {
      case 0x80: // PROTO
        cur.u8();
        break;
      case 0x95: // FRAME: a length prefix only, the opcodes follow inline
        cur.take(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: cur.pos };
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
        // a loop, not push(...items): a million items would overflow the call stack
        for (const it of items) (l as PyValue[]).push(it);
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
        for (const it of items) (s as Set<PyKey>).add(work.key(it));
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark().map((v) => work.key(v))));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n": refused here, before anything can call it, unless allow-listed
        const module = cur.line();
        const name = cur.line();
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
        stack.push(f.call(args as PyValue[], work));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = callable(pop(), 'NEWOBJ');
        stack.push(cls.call(Array.isArray(args) ? (args as PyValue[]) : [], work));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: keyword arguments are not used by any allow-listed class
        pop();
        const args = pop();
        const cls = callable(pop(), 'NEWOBJ_EX');
        stack.push(cls.call(Array.isArray(args) ? (args as PyValue[]) : [], work));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" (protocol 0): MARK args ... -> instance
        const module = cur.line();
        const name = cur.line();
        const g = findGlobal(module, name);
        stack.push(g.call(popMark(), work));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args ... -> instance
        const items = popMark();
        const cls = callable(items.shift() ?? null, 'OBJ');
        stack.push(cls.call(items, work));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state), done as data only
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        else if (obj instanceof Map && state instanceof Map) {
          work.spend(state.size);
          for (const [k, v] of state) obj.set(k, v);
        }
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
        const pid = cur.line();
        if (!opts.persistentLoad) fail('persistent id in a pickle that does not allow them');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x71: // BINPUT
        memo.set(cur.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(cur.u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(cur.line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const idx = op === 0x68 ? cur.u8() : op === 0x6a ? cur.u32() : Number.parseInt(cur.line(), 10);
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
