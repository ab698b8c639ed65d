/**
 * The native BLAS path at install and its absence: `npm ci`'s install step never fails and says in one
 * line what happened, and a machine on wasm alone is told what to install for the faster path.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeBlas } from '../../../native/blas/index.js';
import { probeBackend } from './backend-probe';
import { nativeBlasHint } from './native-hint';
import { repoRoot } from '../../testing/repo-root';

const build = resolve(repoRoot, 'native', 'blas', 'build.js');
// the build as npm runs it, whatever this test run's own DINO_NATIVE
const { DINO_NATIVE: _off, ...buildEnv } = process.env;

describe('the native BLAS addon at install', () => {
  it('without a compiler, the optional build prints one line and lets the install go on', () => {
    const r = spawnSync(process.execPath, [build, '--optional'], { encoding: 'utf8', env: { ...buildEnv, CC: '/nonexistent/cc' } });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'native BLAS: no C compiler found (e.g. sudo apt-get install build-essential), then npm run build:native; training runs on wasm alone',
    ]);
    expect(r.stderr).toBe('');
  });

  it('DINO_NATIVE=0 skips the build in one line', () => {
    const r = spawnSync(process.execPath, [build, '--optional'], { encoding: 'utf8', env: { ...buildEnv, DINO_NATIVE: '0' } });
    expect([r.status, r.stdout.trim()]).toEqual([0, 'native BLAS: skipped (DINO_NATIVE=0); training runs on wasm alone']);
  });
});

describe('the backend line without the native path', () => {
  it('says what to install, for the platform and for what is missing', () => {
    const prev = process.env.DINO_NATIVE;
    delete process.env.DINO_NATIVE;
    try {
      expect(nativeBlasHint('linux', false)).toMatch(/about 4x faster .* install a C compiler \(Debian\/Ubuntu: sudo apt-get install build-essential\) and OpenBLAS .*npm run build:native/);
      expect(nativeBlasHint('linux', true)).toMatch(/install OpenBLAS \(Debian\/Ubuntu: sudo apt-get install libopenblas0-pthread; Fedora: sudo dnf install openblas\), then restart/);
      // Accelerate ships with macOS: only the compiler is ever missing
      expect(nativeBlasHint('darwin', false)).toMatch(/xcode-select --install\), then run npm run build:native/);
      expect(nativeBlasHint('darwin', false)).not.toMatch(/OpenBLAS/);
      expect(nativeBlasHint('win32', false)).toMatch(/not available on Windows/);
    } finally {
      if (prev !== undefined) process.env.DINO_NATIVE = prev;
    }
  });

  it('reads "CPU (wasm)" with the hint when the path is off, and names the BLAS when it is on', async (ctx) => {
    if (process.env.DINO_BACKEND || (await probeBackend()).name !== 'wasm') ctx.skip();
    const blas = process.env.DINO_NATIVE === '0' ? null : loadNativeBlas();
    if (blas) expect(await probeBackend()).toMatchObject({ description: `wasm (tfjs-backend-wasm, SIMD, 1 thread) + native BLAS (${blas.library})` });
    const prev = process.env.DINO_NATIVE;
    process.env.DINO_NATIVE = '0';
    try {
      expect(await probeBackend()).toMatchObject({ name: 'wasm', description: 'CPU (wasm)', hint: 'The native BLAS path is turned off (DINO_NATIVE=0).' });
    } finally {
      if (prev === undefined) delete process.env.DINO_NATIVE;
      else process.env.DINO_NATIVE = prev;
    }
  });
});
