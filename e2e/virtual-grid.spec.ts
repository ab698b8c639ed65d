import sharp from 'sharp';
import type { ImageDTO, Page } from '../src-shared/api';
import { expect, test } from './fixtures';
import { LibraryPage } from './pages/library.page';

const TOTAL = 100_000;

// 100k photos without importing 100k files: the library:images pages and the thumbnails are answered
// by the test, so this checks the grid itself (web mode only: it intercepts HTTP).
test('the grid stays virtual and responsive with 100,000 photos', async ({ app }, testInfo) => {
  test.skip(app.mode !== 'web', 'intercepts web mode HTTP');
  const page = app.page;
  const thumb = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
  const requestedPages: number[] = [];
  await page.route(/\/api\/library(:|%3A)images$/, async (route) => {
    const { offset, limit } = route.request().postDataJSON() as { offset: number; limit: number };
    requestedPages.push(offset);
    const items: ImageDTO[] = [];
    for (let i = offset; i < Math.min(TOTAL, offset + limit); i++) {
      items.push({ id: i + 1, path: `/synthetic/photo-${i}.jpg`, bytes: 1000, width: 640, height: 480, takenAt: null, status: 'ok', error: null });
    }
    const body: Page<ImageDTO> = { items, total: TOTAL, offset };
    await route.fulfill({ json: { result: body } });
  });
  let thumbRequests = 0;
  await page.route('**/photo/*/thumb', async (route) => {
    thumbRequests++;
    await route.fulfill({ body: thumb, contentType: 'image/png' });
  });
  await page.reload();

  const library = new LibraryPage(app);
  await expect(library.count).toHaveText('100,000 photos');
  await expect(library.grid).toBeVisible();
  const domCells = () => library.cells.count();
  const initialCells = await domCells();
  expect(initialCells).toBeGreaterThan(10);
  expect(initialCells).toBeLessThan(200);

  // Scroll as a wheel does (a few rows a frame), then fling through the whole catalog, one jump a
  // frame, recording frame times with requestAnimationFrame.
  const scrollFrames = (stepRows: number | 'fling', frames: number) =>
    library.grid.evaluate(async (el, { stepRows, frames }) => {
      const raf = (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame;
      const times: number[] = [];
      const step = stepRows === 'fling' ? el.scrollHeight / frames : stepRows * 166;
      let last = performance.now();
      for (let i = 0; i < frames; i++) {
        el.scrollTop += step;
        await new Promise((r) => raf(() => r(null)));
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      return times.sort((a, b) => a - b);
    }, { stepRows, frames });
  const describe = (t: number[]) => `p50 ${t[t.length >> 1]!.toFixed(1)} ms, p95 ${t[Math.floor(t.length * 0.95)]!.toFixed(1)} ms`;
  const wheel = await scrollFrames(0.75, 60);
  const fling = await scrollFrames('fling', 120);
  testInfo.annotations.push({ type: 'scroll frames', description: `wheel (0.75 row/frame): ${describe(wheel)}; fling (whole catalog in 120 frames): ${describe(fling)}` });

  // At the end: only the rows near the viewport are in the DOM, showing the last photos.
  expect(await domCells()).toBeLessThan(200);
  await expect(page.locator(`[data-testid="grid-cell"][data-index="${TOTAL - 1}"]`)).toBeVisible();
  await expect(page.locator(`[data-testid="grid-cell"][data-index="${TOTAL - 1}"]`)).toHaveAttribute('aria-label', `Open photo-${TOTAL - 1}.jpg`);
  // Pages were fetched for where the grid stopped, not for all 417 pages it flew past.
  expect(requestedPages.length).toBeLessThan(60);
  // And thumbnails only for cells that stayed on screen: far fewer than the 100k it passed.
  await expect.poll(() => library.decodedThumbnails()).toBeGreaterThan(6);
  expect(thumbRequests).toBeLessThan(1000);
  testInfo.annotations.push({ type: 'requests', description: `${requestedPages.length} pages, ${thumbRequests} thumbnails` });
});
