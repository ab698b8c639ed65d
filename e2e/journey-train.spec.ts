import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from './fixtures';
import { cli, SAMPLES, saveScreenshot } from './cli';
import { LibraryPage } from './pages/library.page';
import { TrainingPage } from './pages/training.page';
import { canvasInk } from './screenshot-check';

// Journey 1 of issue 7: from the empty state, import the samples and train a model with embeddings.
test('journey 1: import the sample photos, train the smallest preset, see the model', async ({ app }, testInfo) => {
  test.setTimeout(150_000);
  const page = app.page;
  const library = new LibraryPage(app);
  await expect(library.firstRun).toBeVisible();
  await expect(page.getByTestId('status-model')).toContainText('none yet');
  await library.useSamples();
  await library.waitForImportDone();

  // the training panel explains every preset and what it would cost, before anything starts
  // the library points to the next step of the journey
  const training = new TrainingPage(page);
  await page.getByTestId('next-train').getByRole('button', { name: 'Open Training' }).click();
  await expect(training.view).toBeVisible();
  await expect(page.getByTestId('training-backend')).toContainText(/wasm|tensorflow|webgpu|cpu/i);
  // choices by outcome come first, each with its time for these photos; the presets are under Advanced
  await expect(training.outcome('quick')).toContainText(/Quick look/);
  await expect(training.outcome('quick').getByRole('radio')).toBeChecked();
  // its time for these photos is measured on this computer within seconds (a short timed run of its preset)
  await expect(training.outcome('quick').getByTestId('outcome-estimate')).toHaveText(/^\(≈[\d.]+ (min|s|h)\)$/, { timeout: 60_000 });
  await expect(training.outcome('thorough').getByTestId('outcome-estimate')).toHaveText(/^\(≈[\d.]+ (min|s|h)\)$/);
  await expect(training.outcome('finetune').getByTestId('outcome-estimate')).toHaveText('(time measured when chosen)');
  await expect(training.outcome('finetune')).toContainText(/Fine-tune official weights/);
  await expect(training.preset('cpu-patch8')).toBeHidden();
  await training.openEngineering();
  // the active backend's default preset is the one chosen until the user picks another
  await expect(training.preset('cpu-patch8').getByTestId('preset-default')).toBeVisible();
  await expect(training.preset('cpu-patch8').getByRole('radio')).toBeChecked();
  await expect(training.preset('cpu-micro')).toBeVisible();
  await expect(training.preset('cpu-micro')).toContainText('vit_tiny');
  await expect(training.preset('cpu-micro').getByTestId('preset-estimate')).toHaveText(/not measured yet|per epoch for your 36 photos/);
  await expect(page.getByTestId('charts-empty')).toBeVisible();

  await training.train('cpu-micro', 1);
  await expect(training.job).toBeVisible();
  // the loss chart draws the live train:metric events
  await expect(training.lossChart).toHaveAttribute('data-points', /^[1-9]\d*$/, { timeout: 90_000 });
  await expect(page.getByTestId('train-loss')).toHaveText(/^\d+\.\d{4}$/);
  await expect(training.job).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(training.done).toBeVisible();

  // a trained model with embeddings is now the current model, in the status bar everywhere
  await expect(page.getByTestId('status-model')).toContainText(/\(36 embedded\)/, { timeout: 20_000 });
  await expect(page.getByTestId('status-model')).not.toContainText('none yet');

  for (const chart of [training.lossChart, training.entropyChart]) {
    const ink = await canvasInk(chart);
    testInfo.annotations.push({ type: 'chart ink', description: JSON.stringify(ink) });
    expect(ink.painted, 'the chart is drawn').toBeGreaterThan(0.005);
    expect(ink.colours, 'axes, labels and the curve in several colours').toBeGreaterThan(3);
  }
  // the screenshot shows what a user sees first: the choices by outcome, the run, the charts and the models
  await training.closeEngineering();
  await page.getByRole('heading', { name: 'What do you want?' }).scrollIntoViewIfNeeded();
  await expect(training.qualityChart).toHaveAttribute('data-points', /^([2-9]|\d{2,})$/);
  await saveScreenshot(page, (n) => testInfo.outputPath(n), 'training');

  // the jobs tray lists training (and its embedding) as finished
  await page.getByTestId('jobs-button').click();
  await expect(page.getByTestId('jobs-tray').getByTestId('job-train').first()).toHaveAttribute('data-state', 'done');
});

test.describe('a long run', () => {
  test.use({ catalogSetup: { prepare: async (dir) => void cli(dir, 'import', SAMPLES) } });

  test('training can be paused, resumed and stopped from the panel', async ({ app }) => {
    const page = app.page;
    const training = new TrainingPage(page);
    await training.open();
    await training.train('cpu-micro', 200);
    await expect(page.getByTestId('train-pause')).toBeVisible();
    // the first step reaches the chart, then pause holds the job between steps
    await expect(training.lossChart).toHaveAttribute('data-points', /^[1-9]\d*$/, { timeout: 60_000 });
    await page.getByTestId('train-pause').click();
    await expect(training.job).toHaveAttribute('data-state', 'paused');
    await expect(training.job.getByTestId('job-phase')).toBeVisible();
    await page.getByTestId('train-resume').click();
    await expect(training.job).toHaveAttribute('data-state', 'running');
    await page.getByTestId('train-stop').click();
    await expect(training.job).toHaveAttribute('data-state', /cancelled|done/, { timeout: 60_000 });
    // stopped early, the panel is ready for the next run
    await expect(training.start).toBeEnabled();
  });

  test('advanced hyperparameters: typos are caught, an override reaches the run', async ({ app }, testInfo) => {
    const page = app.page;
    const training = new TrainingPage(page);
    await training.open();
    await training.openEngineering();
    await training.preset('cpu-micro').click();
    await page.getByTestId('train-advanced').locator('summary').click();
    const lr = page.getByTestId('hyper-lr');
    // the preset's values are the placeholders
    await expect(lr).toHaveAttribute('placeholder', '0.004');
    await lr.fill('1e-3x');
    await expect(page.getByTestId('hyper-invalid')).toHaveText('Base lr must be a number.');
    await expect(training.start).toBeDisabled();
    // a number out of range is refused by the server, before any job starts
    await lr.fill('-1');
    await training.epochs.fill('1');
    await training.start.click();
    await expect(page.getByTestId('train-error')).toContainText('lr (-1) must be a number from 0 to 1');
    await expect(training.run).toHaveCount(0);
    await lr.fill('');
    await page.getByTestId('hyper-colorJitterProb').fill('0');
    await page.getByTestId('hyper-nLocal').fill('2');
    await expect(page.getByTestId('train-advanced').locator('summary')).toHaveText('Advanced: hyperparameters (2 changed)');
    await page.getByTestId('hyper-nLocal').scrollIntoViewIfNeeded();
    await saveScreenshot(page, (n) => testInfo.outputPath(n), 'training-advanced');
    await training.start.click();
    await expect(training.job).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
    // the panel says which settings the run changed from its preset
    await expect(page.getByTestId('train-run-settings')).toHaveText(/^Run \d+: cpu-micro with (?=.*colorJitterProb 0)(?=.*nLocal 2)(?=.*epochs 1)/);
    const db = new Database(join(app.catalogDir, 'catalog.sqlite'), { readonly: true });
    try {
      const run = db.prepare('SELECT preset, config FROM training_runs ORDER BY id DESC LIMIT 1').get() as { preset: string; config: string };
      expect(run.preset).toBe('cpu-micro');
      expect(JSON.parse(run.config)).toMatchObject({ colorJitterProb: 0, nLocal: 2, lr: 0.004, epochs: 1 });
    } finally {
      db.close();
    }
  });
});

