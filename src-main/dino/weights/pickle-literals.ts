// The opcodes that push a literal read straight from the stream: None, booleans, integers, floats,
// text and bytes. They touch neither the stack's contents, the memo nor any global, so they hold
// nothing of the safety argument; the VM (pickle.ts) tries them first and handles the rest itself.

import type { PickleCursor } from './pickle-cursor';
import type { PyValue } from './pickle-values';

/** what readLiteral answers for an opcode that is not a literal */
export const NOT_LITERAL = Symbol('not a literal');

const text = new TextDecoder('utf-8');

/** Reads the literal that opcode `op` introduces, or answers NOT_LITERAL (having read nothing). */
export function readLiteral(op: number, cur: PickleCursor): PyValue | typeof NOT_LITERAL {
  switch (op) {
    case 0x4e: // NONE
      return null;
    case 0x88: // NEWTRUE
      return true;
    case 0x89: // NEWFALSE
      return false;
    case 0x4a: // BININT
      return cur.i32();
    case 0x4b: // BININT1
      return cur.u8();
    case 0x4d: // BININT2
      return cur.u16();
    case 0x8a: // LONG1
      return longFrom(cur.take(cur.u8()));
    case 0x8b: // LONG4
      return longFrom(cur.take(cur.u32()));
    case 0x49: {
      // INT (text): also encodes True/False in protocol 0 as 01/00
      const s = cur.line();
      return s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10);
    }
    case 0x4c: {
      // LONG (text), with a trailing L
      const s = cur.line().replace(/L$/, '');
      if (!/^[-+]?\d{1,4096}$/.test(s)) cur.fail('malformed or oversized integer literal');
      return narrow(BigInt(s));
    }
    case 0x47: // BINFLOAT (big-endian double)
      return cur.f64be();
    case 0x46: // FLOAT (text)
      return Number.parseFloat(cur.line());
    case 0x58: // BINUNICODE
      return text.decode(cur.take(cur.u32()));
    case 0x8c: // SHORT_BINUNICODE
      return text.decode(cur.take(cur.u8()));
    case 0x8d: // BINUNICODE8
      return text.decode(cur.take(cur.u64()));
    case 0x56: // UNICODE (raw-unicode-escape text)
      return cur.line().replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    case 0x54: // BINSTRING (Python 2 str): latin-1 text
      return Buffer.from(cur.take(cur.i32())).toString('latin1');
    case 0x55: // SHORT_BINSTRING
      return Buffer.from(cur.take(cur.u8())).toString('latin1');
    case 0x53: {
      // STRING (quoted repr); only simple quoted text is expected in checkpoints
      const s = cur.line();
      return s.slice(1, -1);
    }
    case 0x42: // BINBYTES
      return new Uint8Array(cur.take(cur.u32()));
    case 0x43: // SHORT_BINBYTES
      return new Uint8Array(cur.take(cur.u8()));
    case 0x8e: // BINBYTES8
      return new Uint8Array(cur.take(cur.u64()));
    case 0x96: // BYTEARRAY8
      return new Uint8Array(cur.take(cur.u64()));
    default:
      return NOT_LITERAL;
  }
}

/**
 * A little-endian two's complement integer of any length, as a number when it fits exactly. Built
 * from hex text in one step: shifting byte by byte costs the square of the length.
 */
function longFrom(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return narrow(v);
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
