import type { Page as PwPage } from '@playwright/test';
import sharp from 'sharp';
import type { MapPointDTO, StatusDTO } from '../src-shared/api';
import { expect, test } from './fixtures';
import { canvasInk } from './screenshot-check';

const TOTAL = 100_000;

/** frame times recorded with requestAnimationFrame while `during` runs (the e2e tsconfig has no DOM lib) */
async function framesDuring(page: PwPage, during: () => Promise<void>): Promise<number[]> {
  await page.evaluate(() => {
    const g = globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): void; __frames: number[]; __stop: boolean };
    g.__frames = [];
    g.__stop = false;
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      g.__frames.push(now - last);
      last = now;
      if (!g.__stop) g.requestAnimationFrame(tick);
    };
    g.requestAnimationFrame(tick);
  });
  await during();
  const times = await page.evaluate(() => {
    const g = globalThis as unknown as { __frames: number[]; __stop: boolean };
    g.__stop = true;
    return g.__frames.slice(1);
  });
  return times.sort((a, b) => a - b);
}

// 100k photos on the map without embedding 100k photos: the points and the status are answered by
// the test, so this checks the map itself (web mode only: it intercepts HTTP).
test('the map stays fluid with 100,000 points: pan, zoom, hover', async ({ app }, testInfo) => {
  test.skip(app.mode !== 'web', 'intercepts web mode HTTP');
  const page = app.page;
  const thumb = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer();
  // twelve gaussian blobs, one per cluster, from a fixed seed
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const points: MapPointDTO[] = Array.from({ length: TOTAL }, (_, i) => {
    const c = i % 12;
    return { id: i + 1, x: Math.cos(c) * 10 + gauss() * 2, y: Math.sin(c * 1.7) * 10 + gauss() * 2, cluster: c };
  });
  await page.route(/\/api\/app(:|%3A)status$/, async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as { result: StatusDTO };
    body.result.images = TOTAL;
    body.result.models = [{ id: 1, name: 'synthetic', arch: 'vit_small', patchSize: 16, dim: 384, source: 'trained', createdAt: new Date().toISOString(), embedded: TOTAL }];
    body.result.activeModel = 1;
    await route.fulfill({ json: body });
  });
  await page.route(/\/api\/map(:|%3A)points$/, (route) => route.fulfill({ json: { result: points } }));
  await page.route(/\/api\/cluster(:|%3A)list$/, (route) => route.fulfill({ json: { result: [] } }));
  await page.route('**/photo/*/thumb', (route) => route.fulfill({ body: thumb, contentType: 'image/png' }));
  await page.reload();

  await expect(page.getByTestId('status-model')).toContainText('synthetic');
  await page.getByTestId('nav-map').click();
  const map = page.getByTestId('map-canvas');
  await expect(page.getByTestId('map-count')).toContainText('100,000 photos');
  await expect.poll(async () => (await canvasInk(map)).painted).toBeGreaterThan(0.01);
  const box = (await map.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;

  // baseline in the same run: the same mouse traffic over the sidebar, where nothing is drawn; what it
  // costs is the browser and Playwright on this machine, not the map
  const baseline = await framesDuring(page, async () => {
    for (let i = 0; i < 60; i++) await page.mouse.move(20 + (i % 10) * 15, 200 + Math.sin(i / 6) * 120);
  });
  const pan = await framesDuring(page, async () => {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 0; i < 60; i++) await page.mouse.move(cx + Math.sin(i / 6) * 200, cy + Math.cos(i / 6) * 120);
    await page.mouse.up();
  });
  const zoom = await framesDuring(page, async () => {
    for (let i = 0; i < 30; i++) await page.mouse.wheel(0, i < 15 ? -120 : 120);
  });
  const hover = await framesDuring(page, async () => {
    for (let i = 0; i < 60; i++) await page.mouse.move(box.x + 20 + (i / 60) * (box.width - 40), cy + Math.sin(i / 5) * 80);
  });
  const p = (t: number[], q: number) => t[Math.min(t.length - 1, Math.floor(t.length * q))]!;
  const describe = (t: number[]) => `p50 ${p(t, 0.5).toFixed(1)} ms, p95 ${p(t, 0.95).toFixed(1)} ms, max ${t.at(-1)!.toFixed(1)} ms (${t.length} frames)`;
  const prepareMs = Number(await map.getAttribute('data-prepare-ms'));
  const report = `one-off index + draw of ${TOTAL} points: ${prepareMs} ms; baseline (no map work): ${describe(baseline)}; pan: ${describe(pan)}; zoom: ${describe(zoom)}; hover: ${describe(hover)}`;
  testInfo.annotations.push({ type: 'map frames', description: report });
  console.log(`map frames: ${report}`);
  // Drawing is a blit of a prepared buffer: the map's frames stay close to the baseline's, which on an
  // idle machine is ~16.7 ms (the goal: p95 under 20 ms); a loaded CI box inflates both alike.
  for (const t of [pan, zoom, hover]) expect(p(t, 0.95)).toBeLessThan(Math.max(40, 2 * p(baseline, 0.95)));

  // the hover tooltip finds a point among 100k through the spatial grid
  await page.getByRole('button', { name: 'Fit' }).click();
  const dot = await map.evaluate((el) => (el as unknown as { dataset: Record<string, string> }).dataset.firstDot ?? '');
  const [dx, dy] = dot.split(',').map(Number);
  await page.mouse.move(box.x + dx!, box.y + dy!);
  await expect(page.getByTestId('map-tooltip')).toBeVisible();
});
