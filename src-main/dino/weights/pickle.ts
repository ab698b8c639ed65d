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
  const vm = new PickleMachine(bytes, opts, start);
  for (;;) {
    const op = vm.cur.u8();
    vm.work.spend(1);
    if (op === 0x2e) return { value: vm.pop(), end: vm.cur.pos }; // STOP
    const literal = readLiteral(op, vm.cur);
    if (literal !== NOT_LITERAL) vm.stack.push(literal);
    else if (!(vm.stackOp(op) || vm.containerOp(op) || vm.objectOp(op) || vm.memoOp(op))) vm.refuse(op);
  }
}

/** The unpickler's state (stack, memo, budget) and its opcodes, in the groups pickle.py's docs use. */
class PickleMachine {
  readonly label: string;
  readonly cur: PickleCursor;
  readonly stack: StackItem[] = [];
  readonly work: PickleBudget;
  private readonly memo = new Map<number, PyValue>();

  constructor(
    bytes: Uint8Array,
    private readonly opts: UnpickleOptions,
    start: number,
  ) {
    this.label = opts.label ?? 'pickle';
    this.cur = new PickleCursor(bytes, this.label, start);
    this.work = opts.budget ?? new PickleBudget(this.label, bytes.length - start);
  }

  fail(msg: string): never {
    return this.cur.fail(msg);
  }

  pop(): PyValue {
    const v = this.stack.pop();
    if (v === undefined || v === MARK) this.fail('stack underflow');
    return v;
  }

  private top(): PyValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) this.fail('stack underflow');
    return v;
  }

  private popMark(): PyValue[] {
    const i = this.stack.lastIndexOf(MARK);
    if (i < 0) this.fail('MARK not found');
    const items = this.stack.splice(i) as PyValue[];
    items.shift();
    this.work.spend(items.length);
    return items;
  }

  /** GLOBAL's lookup: refused here, before anything can call it, unless allow-listed. */
  private findGlobal(module: string, name: string): PyGlobal {
    const g = this.opts.globals.get(`${module}.${name}`);
    if (!g) {
      throw new UnsafePickleError(
        `${this.label}: refused to load: the pickle references the Python global '${shown(`${module}.${name}`)}', which is not a tensor or ` +
          'state-dict type. Checkpoints can run code through such references; this reader never does.',
      );
    }
    return g;
  }

  private callable(f: PyValue, what: string): PyGlobal {
    if (f && typeof f === 'object' && 'call' in f && 'qualname' in f) return f as PyGlobal;
    return this.fail(`${what} of a value that is not an allow-listed global`);
  }

  private setItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof Map)) this.fail('SETITEM on a value that is not a dict');
    const m = target as Map<PyKey, PyValue>;
    for (let i = 0; i + 1 < items.length; i += 2) m.set(this.work.key(items[i]!), items[i + 1]!);
  }

  private persistent(pid: PyValue): PyValue {
    if (!this.opts.persistentLoad) this.fail('persistent id in a pickle that does not allow them');
    return this.opts.persistentLoad(pid);
  }

  /** Framing and the stack itself: PROTO, FRAME, MARK, POP, POP_MARK, DUP. */
  stackOp(op: number): boolean {
    const { stack, cur } = this;
    switch (op) {
      case 0x80: // PROTO
        cur.u8();
        return true;
      case 0x95: // FRAME: a length prefix only, the opcodes follow inline
        cur.take(8);
        return true;
      case 0x28: // MARK
        stack.push(MARK);
        return true;
      case 0x30: // POP
        if (stack.pop() === undefined) this.fail('stack underflow');
        return true;
      case 0x31: // POP_MARK
        this.popMark();
        return true;
      case 0x32: // DUP
        stack.push(this.top());
        return true;
      default:
        return false;
    }
  }

  /** Tuples, lists, dicts and sets. */
  containerOp(op: number): boolean {
    const { stack, work } = this;
    switch (op) {
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        return true;
      case 0x85: // TUPLE1
        stack.push([this.pop()]);
        return true;
      case 0x86: {
        // TUPLE2
        const b = this.pop();
        stack.push([this.pop(), b]);
        return true;
      }
      case 0x87: {
        // TUPLE3
        const c = this.pop();
        const b = this.pop();
        stack.push([this.pop(), b, c]);
        return true;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(this.popMark());
        return true;
      case 0x61: {
        // APPEND
        const v = this.pop();
        const l = this.top();
        if (!Array.isArray(l)) this.fail('APPEND to a value that is not a list');
        l.push(v);
        return true;
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark();
        const l = this.top();
        if (!Array.isArray(l)) this.fail('APPENDS to a value that is not a list');
        // a loop, not push(...items): a million items would overflow the call stack
        for (const it of items) l.push(it);
        return true;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        return true;
      case 0x64: {
        // DICT
        const m = new Map<PyKey, PyValue>();
        this.setItems(m, this.popMark());
        stack.push(m);
        return true;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.top(), [k, v]);
        return true;
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark();
        this.setItems(this.top(), items);
        return true;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        return true;
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        const s = this.top();
        if (!(s instanceof Set)) this.fail('ADDITEMS to a value that is not a set');
        for (const it of items) (s as Set<PyKey>).add(work.key(it));
        return true;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(this.popMark().map((v) => work.key(v))));
        return true;
      default:
        return false;
    }
  }

  /** Globals, calls, BUILD and persistent ids: where a pickle could run code, and this one builds data. */
  objectOp(op: number): boolean {
    const { stack, cur, work } = this;
    switch (op) {
      case 0x63: // GLOBAL "module\nname\n"
        stack.push(this.findGlobal(cur.line(), cur.line()));
        return true;
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
        stack.push(this.findGlobal(module, name));
        return true;
      }
      case 0x52: {
        // REDUCE: f(*args), f necessarily an allow-listed global
        const args = this.pop();
        const f = this.callable(this.pop(), 'REDUCE');
        if (!Array.isArray(args)) this.fail('REDUCE arguments are not a tuple');
        stack.push(f.call(args, work));
        return true;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = this.pop();
        const cls = this.callable(this.pop(), 'NEWOBJ');
        stack.push(cls.call(Array.isArray(args) ? args : [], work));
        return true;
      }
      case 0x92: {
        // NEWOBJ_EX: keyword arguments are not used by any allow-listed class
        this.pop();
        const args = this.pop();
        const cls = this.callable(this.pop(), 'NEWOBJ_EX');
        stack.push(cls.call(Array.isArray(args) ? args : [], work));
        return true;
      }
      case 0x69: {
        // INST "module\nname\n" (protocol 0): MARK args ... -> instance
        const g = this.findGlobal(cur.line(), cur.line());
        stack.push(g.call(this.popMark(), work));
        return true;
      }
      case 0x6f: {
        // OBJ: MARK cls args ... -> instance
        const items = this.popMark();
        const cls = this.callable(items.shift() ?? null, 'OBJ');
        stack.push(cls.call(items, work));
        return true;
      }
      case 0x62: // BUILD
        this.build(this.pop(), this.top());
        return true;
      case 0x51: // BINPERSID: torch's reference to a storage record
        stack.push(this.persistent(this.pop()));
        return true;
      case 0x50: // PERSID (text)
        stack.push(this.persistent(cur.line()));
        return true;
      default:
        return false;
    }
  }

  /** BUILD: obj.__setstate__(state), done as data only. */
  private build(state: PyValue, obj: PyValue): void {
    if (obj instanceof PyObject) obj.state = state;
    else if (obj instanceof Map && state instanceof Map) {
      this.work.spend(state.size);
      for (const [k, v] of state) obj.set(k, v);
    } else if (obj && typeof obj === 'object' && 'setState' in obj && typeof obj.setState === 'function') (obj as { setState(s: PyValue): void }).setState(state);
    // other built objects (tensors) ignore their state, as torch's own _rebuild functions do
  }

  /** The memo: PUT and GET in their three spellings, and MEMOIZE. */
  memoOp(op: number): boolean {
    const { memo, cur } = this;
    switch (op) {
      case 0x71: // BINPUT
        memo.set(cur.u8(), this.top());
        return true;
      case 0x72: // LONG_BINPUT
        memo.set(cur.u32(), this.top());
        return true;
      case 0x70: // PUT
        memo.set(Number.parseInt(cur.line(), 10), this.top());
        return true;
      case 0x94: // MEMOIZE
        memo.set(memo.size, this.top());
        return true;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const idx = op === 0x68 ? cur.u8() : op === 0x6a ? cur.u32() : Number.parseInt(cur.line(), 10);
        if (!memo.has(idx)) this.fail(`memo entry ${idx} missing`);
        this.stack.push(memo.get(idx)!);
        return true;
      }
      default:
        return false;
    }
  }

  /** Opcodes a data pickle has no use for. */
  refuse(op: number): never {
    if (op === 0x82 || op === 0x83 || op === 0x84) {
      throw new UnsafePickleError(`${this.label}: refused to load: the pickle uses the copyreg extension registry (EXT opcodes), which this reader does not allow`);
    }
    if (op === 0x97 || op === 0x98) this.fail('out-of-band pickle buffers are not supported');
    return this.fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or a corrupt one)`);
  }
}
