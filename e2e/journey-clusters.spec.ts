import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { samplesWithModel, saveScreenshot } from './cli';
import { ClustersPage } from './pages/clusters.page';
import { ViewerPage } from './pages/viewer.page';
import { canvasInk, imageVariety } from './screenshot-check';

test.use({ catalogSetup: { prepare: samplesWithModel } });

// Journey 3 of issue 7: review the discovered clusters, name them, export them.
test('journey 3: find clusters, rename one, open it, export two, see them on the map', async ({ app }, testInfo) => {
  const page = app.page;
  const clusters = new ClustersPage(page);
  const viewer = new ViewerPage(page);
  const exportDir = mkdtempSync(join(tmpdir(), 'dino-e2e-export-'));
  try {
    await clusters.open();
    await expect(page.getByTestId('clusters-empty')).toBeVisible();
    await clusters.k.fill('4');
    await clusters.run.click();
    await expect(clusters.cards).toHaveCount(4, { timeout: 60_000 });
    await expect(clusters.summary).toContainText('k-means, k = 4');
    // each card: representative thumbnails, a name, a size; sizes add up to the library
    const sizes = (await clusters.cards.getByTestId('cluster-size').allTextContents()).map((t) => Number(t.replace(/\D/g, '')));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(36);
    await expect(clusters.card(0).getByTestId('cluster-rep').first()).toBeVisible();

    // rename inline
    await clusters.rename(clusters.card(0), 'Holiday photos');
    await expect(clusters.card(0).getByTestId('cluster-name')).toContainText('Holiday photos');
    await expect.poll(() => clusters.cards.getByTestId('cluster-rep').evaluateAll((imgs) => imgs.filter((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0).length)).toBeGreaterThanOrEqual(4);
    const shot = await saveScreenshot(page, (f) => testInfo.outputPath(f), 'clusters');
    expect((await imageVariety(shot)).colours).toBeGreaterThan(200);

    // open the cluster as a grid; a photo in it opens with its neighbours
    await clusters.card(0).getByTestId('cluster-open').click();
    await expect(page.getByTestId('cluster-title')).toHaveText('Holiday photos');
    const cells = page.getByTestId('thumb-grid').getByTestId('grid-cell');
    await expect(cells).toHaveCount(sizes[0]!);
    await cells.first().click();
    await viewer.expectOpen();
    await expect(viewer.neighbours.first()).toBeVisible();
    await viewer.close();
    await page.getByTestId('cluster-back').click();

    // export two clusters, copied into a folder each
    await clusters.exportButton.click();
    await expect(clusters.exportDialog).toBeVisible();
    const boxes = clusters.exportDialog.getByTestId('export-cluster');
    await expect(boxes).toHaveCount(4);
    for (let i = 2; i < 4; i++) await boxes.nth(i).uncheck();
    await page.getByTestId('export-to').fill(exportDir);
    await page.getByTestId('export-mode-copy').check();
    await page.getByTestId('export-run').click();
    await expect(page.getByTestId('export-result')).toContainText(`Exported ${sizes[0]! + sizes[1]!} photo`, { timeout: 30_000 });
    const folders = readdirSync(exportDir).filter((f) => statSync(join(exportDir, f)).isDirectory());
    expect(folders).toHaveLength(2);
    expect(folders).toContain('Holiday photos');
    const files = folders.map((f) => readdirSync(join(exportDir, f)).filter((x) => statSync(join(exportDir, f, x)).isFile()).length).sort();
    expect(files).toEqual([sizes[0]!, sizes[1]!].sort());
    await page.getByTestId('export-close').click();

    // the map: computed on demand, coloured by these clusters; a dot opens its photo
    await page.getByTestId('nav-map').click();
    await expect(page.getByTestId('map-empty')).toBeVisible();
    await page.getByTestId('map-compute').click();
    const map = page.getByTestId('map-canvas');
    await expect(map).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('map-count')).toContainText('36 photos, coloured by 4 clusters');
    await expect.poll(async () => (await canvasInk(map)).colours).toBeGreaterThan(3);
    const box = (await map.boundingBox())!;
    // hover finds the nearest dot (spatial grid) and shows its thumbnail; a click opens it
    const dot = await map.evaluate((el) => (el as unknown as { dataset: Record<string, string> }).dataset.firstDot ?? '');
    const [dx, dy] = dot.split(',').map(Number);
    await page.mouse.move(box.x + dx!, box.y + dy!);
    await expect(page.getByTestId('map-tooltip')).toBeVisible();
    await expect.poll(() => page.getByTestId('map-tooltip').locator('img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await saveScreenshot(page, (f) => testInfo.outputPath(f), 'map');
    await page.mouse.click(box.x + dx!, box.y + dy!);
    await viewer.expectOpen();
    await expect(viewer.neighbours.first()).toBeVisible();
    await viewer.close();
    // shift-drag over the whole map selects every photo
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await expect(page.getByTestId('map-selection')).toHaveText('36 selected');

    // merge two clusters: one card fewer, the sizes add up
    await clusters.open();
    await clusters.card(2).getByTestId('cluster-check').check();
    await clusters.card(3).getByTestId('cluster-check').check();
    await page.getByTestId('cluster-merge').click();
    await expect(clusters.cards).toHaveCount(3);
    const merged = (await clusters.cards.getByTestId('cluster-size').allTextContents()).map((t) => Number(t.replace(/\D/g, '')));
    expect(merged.reduce((a, b) => a + b, 0)).toBe(36);
    expect(merged).toContain(sizes[2]! + sizes[3]!);

    // density clusters: a minimum size instead of k; photos in no dense group are counted, not placed
    await clusters.method.selectOption('density');
    await expect(clusters.k).toHaveCount(0);
    await clusters.minSize.fill('5');
    await clusters.run.click();
    await expect(clusters.summary.or(page.getByTestId('clusters-all-noise'))).toContainText('density, min size 5', { timeout: 60_000 });
    await expect(clusters.noise).toHaveText(/^\d+ photos? in no cluster$/);
    const noise = Number((await clusters.noise.textContent())!.replace(/\D/g, ''));
    const dense = (await clusters.cards.getByTestId('cluster-size').allTextContents()).map((t) => Number(t.replace(/\D/g, '')));
    expect(dense.reduce((a, b) => a + b, 0) + noise).toBe(36);
  } finally {
    rmSync(exportDir, { recursive: true, force: true });
  }
});
