// The Python values an unpickled checkpoint is made of, as plain TypeScript data, and the error for a
// pickle that reaches outside the allow-list. Shared by the unpickler VM (pickle.ts) and the torch
// readers that supply its allow-listed globals (pth-reader.ts, load.ts).

import { WeightsFormatError } from './tensor-map';

/** What a global charges its work to: the pickle's budget (PickleBudget in pickle-budget.ts). */
export interface PickleWork {
  readonly label: string;
  /** charges units; throws once the pickle asks for more than its size allows */
  spend(units: number): void;
  /** a value as a dict key or set member */
  key(k: PyValue): PyKey;
}

/** A Python object we know how to build, by qualified name. */
export interface PyGlobal {
  readonly qualname: string;
  /** REDUCE (calling it) or NEWOBJ (cls.__new__(cls, *args)); charges `work` for what it copies. */
  call(args: PyValue[], work: PickleWork): PyValue;
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
