import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { expect, test } from './fixtures';
import { repoRoot } from './electron';
import { FailedFilesPage } from './pages/failed.page';
import { LibraryPage } from './pages/library.page';
import { ViewerPage } from './pages/viewer.page';
import { imageVariety } from './screenshot-check';

const SAMPLES = join(repoRoot, 'resources', 'sample-photos');
const PHOTO_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic']);

function samplePhotos(dir = SAMPLES): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return samplePhotos(p);
    return PHOTO_EXT.has(extname(e.name).toLowerCase()) ? [p] : [];
  });
}

test('first run: import the sample photos, see the grid, open a photo', async ({ app }, testInfo) => {
  const library = new LibraryPage(app);
  const expected = samplePhotos().length;
  expect(expected, 'resources/sample-photos holds photos').toBeGreaterThan(10);

  await expect(library.firstRun).toBeVisible();
  await library.useSamples();
  // the progress panel appears at once and ends with every sample read
  await expect(library.importPanel).toBeVisible();
  await expect(library.importPanel.getByTestId('job-progress')).toBeVisible();
  expect(await library.waitForImportDone()).toBe(`${expected} / ${expected}`);
  await expect(library.count).toHaveText(`${expected} photos`);
  await expect(app.page.getByTestId('status-images')).toHaveText(`${expected} photos`);
  // the jobs tray lists the finished import
  await app.page.getByTestId('jobs-button').click();
  await expect(app.page.getByTestId('jobs-tray').getByTestId('job-import')).toHaveAttribute('data-state', 'done');
  await app.page.getByTestId('jobs-tray').getByRole('button', { name: 'Close jobs' }).click();
  await expect(app.page.getByTestId('jobs-tray')).toBeHidden();

  // the grid shows real thumbnails: several decoded images, and a screenshot that is not flat
  await expect(library.grid).toBeVisible();
  await expect.poll(() => library.decodedThumbnails(), { timeout: 20_000 }).toBeGreaterThanOrEqual(Math.min(12, expected));
  await app.page.getByTestId('import-progress').getByRole('button', { name: 'Dismiss import summary' }).click();
  await expect.poll(() => library.decodedThumbnails()).toBeGreaterThanOrEqual(Math.min(12, expected));
  await app.page.waitForTimeout(300); // let the fade-in finish
  const shot = testInfo.outputPath('library.png');
  await app.page.screenshot({ path: shot });
  const docs = join(repoRoot, 'docs', 'screenshots');
  mkdirSync(docs, { recursive: true });
  copyFileSync(shot, join(docs, 'library.png'));
  await testInfo.attach('library', { path: shot, contentType: 'image/png' });

  const gridShot = await library.grid.screenshot();
  const placeholders = await library.grid.screenshot({ mask: [library.thumbs], maskColor: '#808080' });
  const real = await imageVariety(gridShot);
  const masked = await imageVariety(placeholders);
  testInfo.annotations.push({ type: 'grid variety', description: `photos: ${JSON.stringify(real)}; thumbnails masked: ${JSON.stringify(masked)}` });
  expect(real.stdev).toBeGreaterThan(30);
  expect(real.colours).toBeGreaterThan(4 * masked.colours);

  // the viewer: full image loaded, metadata shown, arrows move, Esc closes
  await library.openPhoto(1);
  const viewer = new ViewerPage(app.page);
  await viewer.expectOpen();
  const size = await viewer.loadedSize();
  expect(size.width).toBeGreaterThan(160);
  await expect(viewer.dimensions).toHaveText(/\d+ × \d+ px/);
  const first = await viewer.name.textContent();
  await viewer.next();
  await expect(viewer.name).not.toHaveText(first ?? '');
  await viewer.loadedSize();
  await viewer.previous();
  await expect(viewer.name).toHaveText(first ?? '');
  await viewer.loadedSize();
  await app.page.waitForTimeout(300); // the fade-in
  await app.page.screenshot({ path: testInfo.outputPath('viewer.png') });
  copyFileSync(testInfo.outputPath('viewer.png'), join(docs, 'viewer.png'));
  await viewer.close();

  // keyboard: focus is back on the photo that was open; arrows move through the grid, Enter opens
  await expect(app.page.locator('[data-testid="grid-cell"][data-index="1"]')).toBeFocused();
  await app.page.keyboard.press('ArrowRight');
  await app.page.keyboard.press('Enter');
  await viewer.expectOpen();
  await expect(app.page.getByTestId('viewer-position')).toHaveText(`3 of ${expected}`);
  await viewer.close();
});

test('a corrupt file is listed with its reason; the good photo beside it is imported', async ({ app }) => {
  const folder = mkdtempSync(join(tmpdir(), 'dino-e2e-photos-'));
  try {
    const good = samplePhotos()[0]!;
    copyFileSync(good, join(folder, `good${extname(good).toLowerCase()}`));
    // a JPEG header followed by garbage: a file that claims to be a photo and is not
    writeFileSync(join(folder, 'broken.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2048, 0x5a)]));

    const library = new LibraryPage(app);
    await expect(library.firstRun).toBeVisible();
    // a folder that does not exist is a clear message, not a stack trace
    if (app.mode === 'web') {
      await library.importFolder(join(folder, 'no-such-folder'));
      await expect(app.page.getByTestId('action-error')).toContainText('Folder not found');
    }
    await library.importFolder(folder);
    await library.waitForImportDone();
    await expect(library.count).toHaveText('1 photo');
    await expect(app.page.getByTestId('import-summary')).toContainText('1 could not be read');
    await expect(app.page.getByTestId('failed-count')).toHaveText('1');

    const failed = new FailedFilesPage(app.page);
    await app.page.getByTestId('import-see-failed').click();
    await expect(failed.view).toBeVisible();
    await expect(failed.rows).toHaveCount(1);
    const row = failed.row('broken.jpg');
    await expect(row).toBeVisible();
    await expect(row.getByTestId('failed-reason')).not.toBeEmpty();
    await app.page.screenshot({ path: test.info().outputPath('failed.png') });
    copyFileSync(test.info().outputPath('failed.png'), join(repoRoot, 'docs', 'screenshots', 'failed-files.png'));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a running import shows its progress and can be cancelled', async ({ app }) => {
  const big = join(repoRoot, '..', 'shared', 'data', 'caltech10');
  test.skip(!existsSync(big), 'needs ../shared/data/caltech10');
  const library = new LibraryPage(app);
  await expect(library.firstRun).toBeVisible();
  await library.importFolder(big);
  const job = library.importPanel.getByTestId('job-import');
  await expect(job).toHaveAttribute('data-state', 'running');
  // progress moves: a done count above zero out of the 600 found, with a rate
  await expect(job.getByTestId('job-amount')).toHaveText(/^[1-9][\d,]* \/ 600$/, { timeout: 30_000 });
  await job.getByTestId('job-cancel').click();
  await expect(job).toHaveAttribute('data-state', 'cancelled');
  // what was imported before the cancel stays, and the app is ready for the next import
  await expect.poll(() => library.photoCount()).toBeGreaterThan(0);
  expect(await library.photoCount()).toBeLessThan(600);
  await expect(library.grid).toBeVisible();
});
