import { vi } from 'vitest';
import { main } from '../cli/command-runner';

/** Test helper: runs the CLI in-process with stdout captured and parsed as the one JSON document it prints. */
export async function runCli(args: string[]): Promise<{ code: number; json: Record<string, unknown>; ms: number }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const t0 = performance.now();
  try {
    const code = await main(args);
    const ms = performance.now() - t0;
    return { code, json: JSON.parse(out.join('').trim()) as Record<string, unknown>, ms };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}
