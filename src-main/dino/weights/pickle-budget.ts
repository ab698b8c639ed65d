// Bounds the work a pickle can ask for by its own size. A pickle is a program, and a few bytes can
// name the same object many times (memo GET): a list copied again and again, a tuple of tuples of
// the same tuple, a dict whose values are all one other dict. Walked or copied naively, that work
// grows with the product of the references, not with the file: a 753-byte tuple-key pickle took 19 s.
// Every opcode costs one unit and every element an allow-listed global copies costs one more; a real
// checkpoint spends a few units per byte, so a budget of WORK_PER_BYTE per byte refuses a crafted one
// in well under a second while no torch.save output comes near it.

import { UnsafePickleError, type PyKey, type PyValue } from './pickle-values';
import { WeightsFormatError } from './tensor-map';

/** units a pickle may spend per byte of itself (real checkpoints: 1 to 3) */
export const WORK_PER_BYTE = 32;
/** and a floor, so tiny pickles are never starved */
const WORK_BASE = 1 << 20;
/**
 * The longest tuple key, as text: checkpoints key their dicts by names and small ints; a tuple key
 * is rare and short. One built of shared sub-tuples would otherwise expand to 2^depth characters.
 */
export const MAX_KEY_CHARS = 1024;

export class PickleBudget {
  private left: number;
  /** text length of each tuple key met so far, by identity (shared sub-tuples are sized once) */
  private readonly keyChars = new Map<object, number>();

  constructor(
    readonly label: string,
    /** the pickle's size in bytes */
    bytes: number,
  ) {
    this.left = WORK_PER_BYTE * bytes + WORK_BASE;
  }

  /** Charges `units`; refuses the file once it asks for more than its size allows. */
  spend(units: number): void {
    this.left -= units;
    if (this.left < 0) {
      throw new UnsafePickleError(
        `${this.label}: refused to load: the pickle asks for far more work than a checkpoint of its size ever does ` +
          '(objects referenced over and over); it was crafted or is damaged',
      );
    }
  }

  /**
   * A value as a dict key or set member. Map and Set compare objects by identity, Python by value,
   * so a tuple key becomes its JSON text, once its size is known to be small (sized by identity, so
   * a key made of shared sub-tuples costs its distinct parts, not its expansion).
   */
  key(k: PyValue): PyKey {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    if (!Array.isArray(k)) throw new WeightsFormatError(`${this.label}: unsupported dictionary key type in pickle`);
    const chars = this.keySize(k, new Set(), 0);
    if (chars > MAX_KEY_CHARS) {
      throw new UnsafePickleError(`${this.label}: refused to load: a dictionary key would be over ${MAX_KEY_CHARS} characters long (tuples nested in tuples); no checkpoint has such keys`);
    }
    return JSON.stringify(k, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }

  private keySize(t: PyValue[], open: Set<object>, depth: number): number {
    const known = this.keyChars.get(t);
    if (known !== undefined) return known;
    // each level adds at least its two brackets: deeper than this is over the limit (and would
    // overflow the call stack long before its size were known)
    if (depth > MAX_KEY_CHARS / 2) return MAX_KEY_CHARS + 1;
    // our tuples are JS arrays, so a crafted pickle can APPEND a tuple into itself: Python cannot
    if (open.has(t)) throw new UnsafePickleError(`${this.label}: refused to load: a dictionary key contains itself`);
    open.add(t);
    this.spend(1 + t.length);
    let n = 2 + Math.max(0, t.length - 1);
    for (const x of t) {
      if (Array.isArray(x)) n += this.keySize(x, open, depth + 1);
      else if (x === null || typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') n += String(x).length;
      else if (typeof x === 'string') n += x.length + 2;
      else throw new WeightsFormatError(`${this.label}: unsupported dictionary key type in pickle`);
      // stop early: the sum of a deep key can pass 2^53 long before the walk ends
      if (n > MAX_KEY_CHARS) break;
    }
    open.delete(t);
    this.keyChars.set(t, n);
    return n;
  }
}
