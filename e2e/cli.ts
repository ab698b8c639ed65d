import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { BUNDLED_CLI } from './bundle';
import { repoRoot } from './electron';

export const SAMPLES = join(repoRoot, 'resources', 'sample-photos');
/** a tiny random ViT/16 checkpoint: real weights loading and embedding in a few seconds */
export const TINY_VIT = join(repoRoot, 'src-main', 'dino', 'weights', 'fixtures', 'vit_p16_full_checkpoint.pth');

/** Runs the built `dino-explorer <args> --catalog DIR --json` and returns its JSON answer. */
export function cli(catalogDir: string, ...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [BUNDLED_CLI, ...args, '--catalog', catalogDir, '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`dino-explorer ${args.join(' ')} exited with ${r.status}\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** The sample photos imported and embedded by a tiny model: what journeys 2 and 3 start from. */
export async function samplesWithModel(catalogDir: string): Promise<void> {
  cli(catalogDir, 'import', SAMPLES);
  cli(catalogDir, 'models', 'add', TINY_VIT);
  cli(catalogDir, 'embed');
}

/** Saves a screenshot as a test artifact and as docs/screenshots/<name>.png for the README. */
export async function saveScreenshot(page: Page, outputPath: (name: string) => string, name: string): Promise<string> {
  const shot = outputPath(`${name}.png`);
  await page.screenshot({ path: shot });
  const docs = join(repoRoot, 'docs', 'screenshots');
  mkdirSync(docs, { recursive: true });
  copyFileSync(shot, join(docs, `${name}.png`));
  return shot;
}
