/**
 * What `status` says about the compute backend, from the command line as a user runs it: the webgpu
 * backend named with its adapter when asked for (SwiftShader where there is no GPU), a software adapter
 * passed over by the automatic choice with a line that says why, and likewise a machine where Vulkan
 * finds no driver at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD, useSoftwareGpu } from '../testing/webgpu-test-setup';

const missing = useSoftwareGpu();
const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'dino-explorer.js');

function status(env: Record<string, string | undefined>): { backend: string; backendFallbacks: string[] } {
  const r = spawnSync(process.execPath, [bin, 'status', '--catalog', catalog, '--json'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { backend: string; backendFallbacks: string[] };
}

const dir = mkdtempSync(join(tmpdir(), 'dino-probe-'));
const catalog = join(dir, 'catalog');

describe.skipIf(missing !== null)(`status names the compute backend${missing ? ` (skipped: ${missing})` : ''}`, () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names webgpu and its adapter when DINO_BACKEND=webgpu', () => {
    const s = status({ DINO_BACKEND: 'webgpu' });
    expect(s.backend).toMatch(/^webgpu \(.+, Dawn (Vulkan|Metal|D3D12)/);
    expect(s.backendFallbacks).toEqual([]);
  });

  it.runIf(process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD)('passes over a software adapter by itself, saying why', () => {
    const s = status({ DINO_BACKEND: undefined });
    expect(s.backend).toMatch(/^(wasm|tensorflow)/);
    expect(s.backendFallbacks).toEqual([expect.stringMatching(/^webgpu: only a software adapter \(webgpu \(google swiftshader.*DINO_BACKEND=webgpu uses it anyway$/)]);
  });

  it.runIf(process.platform === 'linux')('falls back with a line that says why where Vulkan has no driver', () => {
    const s = status({ DINO_BACKEND: undefined, VK_ICD_FILENAMES: join(dir, 'no-such-driver.json') });
    expect(s.backend).toMatch(/^(wasm|tensorflow)/);
    expect(s.backendFallbacks).toEqual([expect.stringMatching(/^webgpu: no GPU adapter found \(on Linux install a Vulkan driver/)]);
  });
});
