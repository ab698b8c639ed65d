import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..');

/**
 * The Electron executable when it is installed, without ever triggering electron's download
 * (require('electron') downloads when the binary is missing): read path.txt and check dist/.
 */
export function electronBinary(): string | null {
  if (process.env.ELECTRON_EXEC_PATH && existsSync(process.env.ELECTRON_EXEC_PATH)) return process.env.ELECTRON_EXEC_PATH;
  const dir = join(repoRoot, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

/** E2E_ELECTRON=1 forces the app (and fails without a binary), E2E_ELECTRON=0 forces web mode. */
export function useElectron(): boolean {
  if (process.env.E2E_ELECTRON === '0') return false;
  if (process.env.E2E_ELECTRON === '1') {
    if (!electronBinary()) throw new Error('E2E_ELECTRON=1 but the Electron binary is not installed (node_modules/electron/dist)');
    return true;
  }
  return electronBinary() !== null;
}
