/**
 * The unpickler never runs code from a checkpoint: any Python global outside the allow-list is
 * refused at the opcode that names it (before a call could happen), with the name in the message.
 * Pickles are built by hand here, plus one made by PyTorch (fixtures/malicious_os_system.pth).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDinoWeights } from './load';
import { unpickle, UnsafePickleError, type PyGlobal } from './pickle';
import { openPth } from './pth-reader';

const tmp = mkdtempSync(join(tmpdir(), 'dino-pickle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const enc = (s: string) => Buffer.from(s, 'latin1');
const unicode = (s: string) => Buffer.concat([Buffer.from([0x58, s.length, 0, 0, 0]), enc(s)]); // BINUNICODE
const short = (s: string) => Buffer.concat([Buffer.from([0x8c, s.length]), enc(s)]); // SHORT_BINUNICODE

/** Wraps pickle bytes into the torch.save zip layout. */
function asPth(name: string, pkl: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, zipSync({ 'archive/data.pkl': new Uint8Array(pkl), 'archive/version': enc('3\n') }, { level: 0 }));
  return p;
}

const evil: [string, Buffer, string][] = [
  // protocol 2: GLOBAL builtins.eval, REDUCE('1+1')
  ['GLOBAL + REDUCE', Buffer.concat([enc('\x80\x02cbuiltins\neval\n'), unicode('1+1'), enc('\x85R.')]), 'builtins.eval'],
  // protocol 4: STACK_GLOBAL os.system
  ['STACK_GLOBAL', Buffer.concat([enc('\x80\x04'), short('os'), short('system'), enc('\x93'), short('touch /tmp/x'), enc('\x85R.')]), 'os.system'],
  // a reference alone, never called: refused all the same
  ['bare reference', enc('\x80\x02csubprocess\nPopen\n.'), 'subprocess.Popen'],
  // protocol 0 INST runs the class on the marked arguments
  ['INST', enc("(S'ls'\nios\nsystem\n."), 'os.system'],
  // hidden inside an allowed dict, after legitimate entries
  ['nested in a state dict', Buffer.concat([enc('\x80\x02ccollections\nOrderedDict\n)R('), unicode('a'), enc('K\x01'), unicode('b'), enc('cposix\nsystem\n'), unicode('id'), enc('\x85Ru.')]), 'posix.system'],
  // an allow-listed helper with a disallowed class inside
  ['copyreg._reconstructor', enc('\x80\x02ccopyreg\n_reconstructor\ncnt\nsystem\nc__builtin__\nobject\nN\x87R.'), 'nt.system'],
];

describe('unsafe pickles are refused, never run', () => {
  it.each(evil)('%s', (_what, pkl, global) => {
    const p = asPth('evil.pth', pkl);
    expect(() => openPth(p)).toThrow(UnsafePickleError);
    expect(() => openPth(p)).toThrow(new RegExp(`refused to load: the pickle references the Python global '${global.replace('.', '\\.')}'`));
    expect(() => loadDinoWeights(p)).toThrow(/refused to load/);
  });

  it('refuses the os.system payload PyTorch itself pickled, and nothing ran', () => {
    const p = join(import.meta.dirname, 'fixtures', 'malicious_os_system.pth');
    expect(() => loadDinoWeights(p)).toThrow(/malicious_os_system\.pth: refused to load: the pickle references the Python global 'posix\.system'/);
    expect(existsSync('/tmp/dino-weights-fixture-pwned')).toBe(false);
  });

  it('refuses the extension registry and calls of non-globals', () => {
    const g = new Map<string, PyGlobal>();
    expect(() => unpickle(enc('\x80\x02\x82\x01)R.'), { globals: g })).toThrow(/extension registry/);
    expect(() => unpickle(Buffer.concat([enc('\x80\x02'), unicode('x'), enc(')R.')]), { globals: g })).toThrow(/REDUCE of a value that is not an allow-listed global/);
  });

  it('reads the plain data opcodes', () => {
    // {'a': [1, -2, 3.5, True, None, 'é'], 'b': (b'xy',)} in protocol 4 style opcodes
    const pkl = Buffer.concat([
      enc('\x80\x04}('), short('a'), enc(']('), enc('K\x01J\xfe\xff\xff\xff'), enc('G'), Buffer.from(new Float64Array([3.5]).buffer).reverse(),
      enc('\x88N'), Buffer.from([0x8c, 2, 0xc3, 0xa9]), enc('e'), short('b'), enc('C\x02xy\x85u.'),
    ]);
    const v = unpickle(pkl, { globals: new Map() }).value as Map<string, unknown>;
    expect(v.get('a')).toEqual([1, -2, 3.5, true, null, 'é']);
    expect(v.get('b')).toEqual([new Uint8Array([0x78, 0x79])]);
  });

  it('says so when the pickle itself is cut', () => {
    expect(() => unpickle(enc('\x80\x02}q\x00(X\x05\x00\x00\x00ab'), { globals: new Map() })).toThrow(/truncated/);
  });
});
