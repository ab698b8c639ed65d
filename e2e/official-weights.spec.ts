import { resolve } from 'node:path';
import { expect, test } from './fixtures';
import { cli, SAMPLES } from './cli';
import { TrainingPage } from './pages/training.page';

// Starting from pretrained weights instead of training: a weights file (here a small random ViT in the
// official .pth layout, as the official downloads are unreachable offline) becomes the current model,
// and every photo is embedded with it.
const weights = resolve(import.meta.dirname, '..', 'src-main', 'dino', 'weights', 'fixtures', 'vit_p16_full_checkpoint.pth');

test.use({ catalogSetup: { prepare: async (dir) => void cli(dir, 'import', SAMPLES) } });

test('weights from a file become the model and embed the library', async ({ app }) => {
  const page = app.page;
  const training = new TrainingPage(page);
  await training.open();
  await training.openEngineering();
  const panel = page.getByTestId('official-weights');
  await expect(panel.getByTestId('official-choice')).toContainText('dino_vits16');
  await panel.getByTestId('official-file').fill('/nonexistent/weights.pth');
  await panel.getByTestId('official-add').click();
  // a missing file is a readable error in the jobs tray, not a crash
  await page.getByTestId('jobs-button').click();
  await expect(page.getByTestId('jobs-tray').getByTestId('job-download').first()).toHaveAttribute('data-state', 'failed', { timeout: 20_000 });
  await expect(page.getByTestId('jobs-tray')).toContainText(/no such file/);
  await page.keyboard.press('Escape');

  await panel.getByTestId('official-file').fill(weights);
  await panel.getByTestId('official-add').click();
  await expect(page.getByTestId('status-model')).toContainText('vit_p16_full_checkpoint', { timeout: 60_000 });
  await expect(page.getByTestId('status-model')).toContainText(/\(36 embedded\)/, { timeout: 60_000 });
});
