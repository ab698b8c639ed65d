// The Python a PyTorch checkpoint's pickle may name, and what each builds: the allow-list of globals
// (storage types, tensor and parameter rebuilds, plain containers, argparse.Namespace, numpy scalars),
// each implemented as plain data construction, and the storage and tensor records they produce.
// Anything not listed here is refused by the unpickler (pickle.ts).

import { PyObject, UnsafePickleError, type PyGlobal, type PyKey, type PyValue } from './pickle';
import type { PickleBudget } from './pickle-budget';
import { WeightsFormatError, numel, shown } from './tensor-map';

export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const ITEM_SIZE: Record<TorchDtype, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** torch.<X>Storage names as pickled by torch.save, and the element type each stands for. */
const STORAGE_TYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
    /** where the bytes live: the storage record holding them, and the first element (legacy views) */
    readonly base = key,
    readonly start = 0,
  ) {}
}

/** A tensor as the pickle describes it: a strided view into a storage. */
export class TorchTensorRef {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
}

function global(qualname: string, call: (args: PyValue[], work: PickleBudget) => PyValue): PyGlobal {
  return { qualname, call };
}

function ints(v: PyValue, what: string, work: PickleBudget): number[] {
  if (!Array.isArray(v)) throw new WeightsFormatError(`${work.label}: malformed tensor record: ${what} is not a tuple of ints`);
  work.spend(v.length);
  if (!v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) throw new WeightsFormatError(`${work.label}: malformed tensor record: ${what} is not a tuple of non-negative ints`);
  return v as number[];
}

function rebuildTensor(args: PyValue[], work: PickleBudget): TorchTensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage) || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new WeightsFormatError(`${work.label}: malformed tensor record in the pickle`);
  const shape = ints(size ?? null, 'size', work);
  const strides = ints(stride ?? null, 'stride', work);
  if (shape.length !== strides.length) throw new WeightsFormatError(`${work.label}: malformed tensor record: size and stride differ in length`);
  let last = offset;
  for (let i = 0; i < shape.length; i++) if (shape[i]! > 0) last += (shape[i]! - 1) * strides[i]!;
  const n = numel(shape);
  if (n > 0 && last >= storage.numel) throw new WeightsFormatError(`${work.label}: tensor of shape [${shape}] reaches past its storage (${storage.numel} elements)`);
  // a zero stride repeats elements: a one-element storage could stand for a tensor of any size.
  // No parameter is saved that way, so a view may not hold more elements than its storage.
  if (n > storage.numel) throw new UnsafePickleError(`${work.label}: refused to load: a tensor of shape [${shape}] would repeat the ${storage.numel} elements of its storage`);
  return new TorchTensorRef(storage, offset, shape, strides);
}

/**
 * The allow-list: every Python global a state dict or a DINO training checkpoint legitimately
 * references, each implemented here as plain data construction.
 */
export function torchGlobals(): Map<string, PyGlobal> {
  const g = new Map<string, PyGlobal>();
  const add = (names: string[], call: (args: PyValue[], work: PickleBudget) => PyValue) => {
    for (const n of names) g.set(n, global(n, call));
  };
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) {
    // storage types only ever appear inside persistent ids; calling one is not something torch.save writes
    add([`torch.${name}`], () => {
      throw new WeightsFormatError(`unexpected call of torch.${name} in the pickle`);
    });
    (g.get(`torch.${name}`) as StorageGlobal).storageDtype = dtype;
  }
  add(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor'], rebuildTensor);
  // nn.Parameter: (data, requires_grad, backward_hooks[, state]) -> the tensor itself
  add(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state'], (a) => a[0] ?? null);
  add(['torch._tensor._rebuild_from_type_v2'], (a, work) => {
    const [fn, , args] = a;
    if (!fn || typeof fn !== 'object' || !('call' in fn) || !Array.isArray(args)) throw new WeightsFormatError('malformed tensor subclass record');
    return (fn as PyGlobal).call(args as PyValue[], work);
  });
  add(['torch.Tensor', 'torch.nn.parameter.Parameter'], () => {
    throw new WeightsFormatError('unexpected construction of a tensor type in the pickle');
  });
  add(['torch.Size'], (a) => (Array.isArray(a[0]) ? a[0] : []));
  // each call below copies its argument: charged by length, or one list named a million times would
  // cost a million copies for a few bytes each
  add(['collections.OrderedDict', 'builtins.dict', '__builtin__.dict'], (a, work) => {
    const m = new Map<PyKey, PyValue>();
    const items = a[0];
    if (Array.isArray(items)) {
      work.spend(items.length);
      for (const kv of items) if (Array.isArray(kv)) m.set(work.key(kv[0] ?? null), kv[1] ?? null);
    }
    return m;
  });
  add(['builtins.set', '__builtin__.set', 'builtins.frozenset', '__builtin__.frozenset'], (a, work) => {
    const items = Array.isArray(a[0]) ? (a[0] as PyValue[]) : [];
    work.spend(items.length);
    return new Set(items.map((x) => work.key(x)));
  });
  add(['builtins.list', '__builtin__.list', 'builtins.tuple', '__builtin__.tuple'], (a, work) => {
    const items = Array.isArray(a[0]) ? (a[0] as PyValue[]) : [];
    work.spend(items.length);
    return [...items];
  });
  // protocol 2 has no bytes opcode: Python 3 pickles bytes as _codecs.encode(text, 'latin1')
  add(['_codecs.encode'], (a, work) => {
    const [s, enc] = a;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new WeightsFormatError("only _codecs.encode(text, 'latin1') is allowed");
    work.spend(s.length);
    return new Uint8Array(Buffer.from(s, 'latin1'));
  });
  // the full checkpoint's training arguments: kept as a plain object, never a live class
  add(['argparse.Namespace'], (a) => new PyObject('argparse.Namespace', a, new Map()));
  add(['pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib.Path'], (a, work) => {
    work.spend(a.reduce<number>((n, x) => n + (typeof x === 'string' ? x.length : 1), 0));
    return a.filter((x) => typeof x === 'string').join('/');
  });
  add(['copyreg._reconstructor', 'copy_reg._reconstructor'], (a, work) => {
    const cls = a[0];
    if (!cls || typeof cls !== 'object' || !('call' in cls)) throw new WeightsFormatError('malformed object record');
    return (cls as PyGlobal).call([], work);
  });
  // numpy scalars (e.g. a float64 in args): scalar(dtype, raw bytes)
  add(['numpy.dtype'], (a) => new PyObject('numpy.dtype', a));
  add(['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'], (a) => numpyScalar(a));
  return g;
}

function numpyScalar(a: PyValue[]): PyValue {
  const [dtype, raw] = a;
  if (!(dtype instanceof PyObject) || typeof dtype.args[0] !== 'string' || !(raw instanceof Uint8Array)) throw new WeightsFormatError('malformed numpy scalar');
  const code = dtype.args[0];
  // BUILD state of a dtype: (version, byteorder, ...); '>' is big-endian
  const big = Array.isArray(dtype.state) && dtype.state[1] === '>';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (code) {
    case 'f8': return v.getFloat64(0, !big);
    case 'f4': return v.getFloat32(0, !big);
    case 'i8': return Number(v.getBigInt64(0, !big));
    case 'i4': return v.getInt32(0, !big);
    case 'u8': return Number(v.getBigUint64(0, !big));
    case 'u4': return v.getUint32(0, !big);
    case 'b1': return raw[0] !== 0;
    default: throw new WeightsFormatError(`unsupported numpy scalar type ${code}`);
  }
}

/** A storage type's global: the element type it stands for rides on it. */
type StorageGlobal = PyGlobal & { storageDtype?: TorchDtype };

/**
 * A persistent id as both formats write it, ('storage', storage_type, key, location, numel[, view]):
 * the storage's element type, key, claimed element count (the caller checks it) and the legacy
 * format's view record, if any.
 */
export function storageRecord(pid: PyValue, label: string): { dtype: TorchDtype; key: string; numel: number; view: PyValue } {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || typeof pid[2] !== 'string' || typeof pid[4] !== 'number') {
    throw new WeightsFormatError(`${label}: unknown persistent record in the pickle`);
  }
  const type = pid[1] as StorageGlobal | null;
  const dtype = type?.storageDtype;
  if (!dtype) throw new WeightsFormatError(`${label}: storage of unknown type ${type?.qualname ? shown(type.qualname) : '(not a storage type)'}`);
  return { dtype, key: pid[2], numel: pid[4], view: pid[5] ?? null };
}
