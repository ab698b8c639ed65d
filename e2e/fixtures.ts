import { test as base, expect, _electron, type ElectronApplication, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_CLI } from './bundle';
import { electronBinary, repoRoot, useElectron } from './electron';

export interface AppHandle {
  page: Page;
  mode: 'web' | 'electron';
  /** the fresh catalog this test runs on */
  catalogDir: string;
  /** Electron only: the app, to stub the native folder dialog */
  electron?: ElectronApplication;
}

/** Starts the built `dino-explorer serve --port 0` and resolves with the URL it prints. */
async function startWebMode(catalogDir: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [BUNDLED_CLI, 'serve', '--catalog', catalogDir, '--port', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not print its URL within 60 s\n${err}`)), 60_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`serve exited with ${code}\n${err}`));
    });
  });
  return { url, child, log: () => err };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Prepares the fresh catalog from the CLI before the app opens it (see e2e/cli.ts); none by default.
 * An object, not a bare function: Playwright would take a function option for a fixture.
 */
export type CatalogSetup = { prepare: (catalogDir: string) => Promise<void> } | null;

/** Environment variables for the app under test, e.g. DINO_WEIGHTS_BASE_URL for a local weights server. */
export type AppEnv = Record<string, string>;

export const test = base.extend<{ app: AppHandle; catalogSetup: CatalogSetup; appEnv: AppEnv }>({
  catalogSetup: [null, { option: true }],
  // hermetic: no spec reaches the official download host (a spec that needs weights serves them locally)
  appEnv: [{ DINO_WEIGHTS_BASE_URL: 'http://127.0.0.1:9' }, { option: true }],
  app: async ({ browser, catalogSetup, appEnv }, use, testInfo) => {
    const catalogDir = mkdtempSync(join(tmpdir(), 'dino-e2e-catalog-'));
    try {
      if (catalogSetup) await catalogSetup.prepare(catalogDir);
      if (useElectron()) {
        const electron = await _electron.launch({
          executablePath: electronBinary() ?? undefined,
          args: [join(repoRoot, 'out', 'main', 'index.js'), `--catalog=${catalogDir}`, ...(process.env.CI ? ['--no-sandbox'] : [])],
          cwd: repoRoot,
          env: { ...(process.env as Record<string, string>), ...appEnv },
        });
        const page = await electron.firstWindow();
        await page.setViewportSize({ width: 1280, height: 800 });
        await use({ page, mode: 'electron', catalogDir, electron });
        await electron.close();
      } else {
        const server = await startWebMode(catalogDir, appEnv);
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        const problems: string[] = [];
        // A CSP violation or an uncaught error is a bug even when the test's assertions pass.
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
        });
        await page.goto(server.url);
        await use({ page, mode: 'web', catalogDir });
        await context.close();
        await stop(server.child);
        if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach('serve.log', { body: server.log(), contentType: 'text/plain' });
        expect(problems, 'the page logged errors').toEqual([]);
      }
    } finally {
      rmSync(catalogDir, { recursive: true, force: true });
    }
  },
});

export { expect };
