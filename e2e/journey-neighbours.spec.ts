import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { repoRoot } from './electron';
import { samplesWithModel, saveScreenshot } from './cli';
import { LibraryPage } from './pages/library.page';
import { ViewerPage } from './pages/viewer.page';
import { canvasInk } from './screenshot-check';

const OUTSIDE = join(repoRoot, '..', 'shared', 'data', 'trashnet6', 'glass', 'glass100.jpg');
const SCORE = /^-?[01]\.\d{3}$/;

// Journey 2 of issue 7: click any photo, anywhere, to see its neighbours.
test.describe('with a model', () => {
  // A model is needed, not its quality: the sample photos embedded by a tiny ViT, from the CLI (~10 s).
  test.use({ catalogSetup: { prepare: samplesWithModel } });

  test('journey 2: a photo\'s neighbours with scores, search with an outside photo, attention', async ({ app }, testInfo) => {
    const page = app.page;
    const library = new LibraryPage(app);
    const viewer = new ViewerPage(page);
    await expect(page.getByTestId('status-model')).toContainText('vit_p16_full_checkpoint');
    await expect(library.grid).toBeVisible();

    // from the grid: the viewer lists the neighbours (default k = 20, the photo itself left out)
    await library.openPhoto(0);
    await viewer.expectOpen();
    await viewer.loadedSize();
    await expect(viewer.neighbours.first()).toBeVisible();
    const n = await viewer.neighbours.count();
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThanOrEqual(20);
    const scores = (await viewer.neighbourScores.allTextContents()).map((t) => t.trim());
    for (const s of scores) expect(s).toMatch(SCORE);
    const values = scores.map(Number);
    // nearest first
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    await expect.poll(() => viewer.decodedNeighbours()).toBeGreaterThanOrEqual(Math.min(n, 8));
    await page.waitForTimeout(200);
    await saveScreenshot(page, (f) => testInfo.outputPath(f), 'viewer-neighbours');

    // S moves focus to the neighbours; Enter on one navigates to it
    const id = page.getByTestId('viewer-id');
    const first = (await id.textContent()) ?? '';
    await page.keyboard.press('s');
    await expect(viewer.neighbours.first()).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(id).not.toHaveText(first);
    await expect(page.getByTestId('viewer-position')).toHaveText(/^2 of \d+$/);
    await viewer.loadedSize();
    // and its own neighbours are listed; clicking another neighbour goes on
    await expect(viewer.neighbours.first()).toBeVisible();
    const second = (await id.textContent()) ?? '';
    await viewer.neighbours.nth(1).click();
    await expect(id).not.toHaveText(second);

    // attention overlay: a heat map per head over the photo, plus their mean
    await viewer.loadedSize();
    await viewer.attentionToggle.check();
    await expect(viewer.attention).toHaveAttribute('data-ready', 'true');
    const heads = page.getByTestId('attention-head');
    await expect(heads.locator('option')).not.toHaveCount(1);
    const mean = await canvasInk(viewer.attention);
    expect(mean.painted).toBe(1);
    expect(mean.colours).toBeGreaterThan(3);
    await heads.selectOption({ index: 1 });
    await expect(viewer.attention).toHaveAttribute('data-ready', 'true');
    await saveScreenshot(page, (f) => testInfo.outputPath(f), 'viewer-attention');
    await viewer.close();

    // "Search with a photo…": a file from outside the library, its nearest photos with scores
    test.skip(!existsSync(OUTSIDE), 'needs ../shared/data/trashnet6');
    await page.getByTestId('search-file').setInputFiles(OUTSIDE);
    const results = page.getByTestId('search-results');
    await expect(results).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('search-query')).toBeVisible();
    expect(await results.getByTestId('result-cell').count()).toBeGreaterThanOrEqual(10);
    for (const s of await results.getByTestId('result-score').allTextContents()) expect(s.trim()).toMatch(SCORE);
    // the file is not in the library, so nothing matches it exactly
    expect(Number(await results.getByTestId('result-score').first().textContent())).toBeLessThan(0.9995);
    await expect.poll(() => results.getByTestId('result-thumb').evaluateAll((imgs) => imgs.filter((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0).length)).toBeGreaterThanOrEqual(10);
    await saveScreenshot(page, (f) => testInfo.outputPath(f), 'search');
    // a search result is a photo like any other: click it, see its neighbours
    await results.getByTestId('result-cell').first().click();
    await viewer.expectOpen();
    await expect(viewer.neighbours.first()).toBeVisible();
    await viewer.close();
    await expect(results.getByTestId('result-cell').first()).toBeFocused();

    // duplicates & outliers from the same embeddings
    await page.getByTestId('nav-duplicates').click();
    await expect(page.getByTestId('outliers').getByTestId('result-score').first()).toBeVisible();
    for (const s of await page.getByTestId('outliers').getByTestId('result-score').allTextContents()) expect(s.trim()).toMatch(/^-?\d+\.\d{3}$/);
    await expect(page.getByTestId('dup-threshold')).toHaveText('0.950');
    await expect(page.getByTestId('dup-count').or(page.getByTestId('dup-empty'))).toBeVisible();
    await saveScreenshot(page, (f) => testInfo.outputPath(f), 'duplicates');
    // a lower threshold can only merge groups: at least as many photos are in some group
    const inGroups = async () => (await page.getByTestId('dup-group').getByTestId('result-cell').count());
    const strict = await inGroups();
    await page.getByTestId('dup-slider').fill('0.8');
    await expect(page.getByTestId('dup-threshold')).toHaveText('0.800');
    await expect(page.getByTestId('dup-count').or(page.getByTestId('dup-empty'))).toBeVisible();
    await expect.poll(inGroups).toBeGreaterThanOrEqual(strict);
  });
});

test('settings change k; without a model every view says what to do next', async ({ app }) => {
  const page = app.page;
  // a catalog with photos and no model: each embedding view explains and offers the training panel
  await new LibraryPage(app).useSamples();
  await new LibraryPage(app).waitForImportDone();
  for (const view of ['clusters', 'map', 'duplicates', 'search']) {
    await page.getByTestId(`nav-${view}`).click();
    await expect(page.getByTestId('needs-model')).toContainText('Train a model or add official weights first');
  }
  await page.getByTestId('go-training').click();
  await expect(page.getByTestId('training-view')).toBeVisible();
  await page.getByTestId('nav-library').click();
  await new LibraryPage(app).openPhoto(0);
  await expect(page.getByTestId('neighbours-empty')).toContainText('Train a model or add official weights first');
  await page.keyboard.press('Escape');

  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('settings-catalog')).toHaveText(app.catalogDir);
  await expect(page.getByTestId('settings-k')).toHaveValue('20');
  await page.getByTestId('settings-k').fill('5');
  await page.getByTestId('settings-k').press('Enter');
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  // the backend picker names what this machine has
  await expect(page.getByTestId('settings-backend-auto')).toHaveText(/^Automatic: (CPU|GPU) \(/);
  await expect(page.getByTestId('settings-backend-cpu')).toHaveText(/^CPU \((wasm|tfjs-node)/);
  await page.getByTestId('settings-backend').selectOption('cpu');
  await expect(page.getByTestId('settings-saved')).toHaveText('Backend saved.');
  // and the jobs follow it: the status bar says the GPU is left alone
  await expect(page.getByTestId('status-backend')).toHaveAttribute('title', /GPU: not used, Settings ask for the CPU/);
  // kept in the catalog: a reload shows the saved values
  await page.reload();
  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('settings-k')).toHaveValue('5');
  await expect(page.getByTestId('settings-backend')).toHaveValue('cpu');
});
