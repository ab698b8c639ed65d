import type { Locator, Page } from '@playwright/test';

/** The Training panel: choices by outcome, presets under Advanced, start/pause/stop, live charts, the models. */
export class TrainingPage {
  readonly view: Locator;
  readonly epochs: Locator;
  readonly start: Locator;
  readonly run: Locator;
  readonly job: Locator;
  readonly lossChart: Locator;
  readonly entropyChart: Locator;
  readonly qualityChart: Locator;
  readonly done: Locator;
  readonly note: Locator;
  readonly engineering: Locator;
  readonly models: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('training-view');
    this.epochs = page.getByTestId('train-epochs');
    this.start = page.getByTestId('train-start');
    this.run = page.getByTestId('train-run');
    this.job = this.run.getByTestId('job-train');
    this.lossChart = page.getByTestId('chart-loss');
    this.entropyChart = page.getByTestId('chart-entropy');
    this.qualityChart = page.getByTestId('chart-quality');
    this.done = page.getByTestId('train-done');
    this.note = page.getByTestId('train-note');
    this.engineering = page.getByTestId('train-engineering');
    this.models = page.getByTestId('model-list');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-training').click();
  }

  preset(name: string): Locator {
    return this.page.getByTestId(`preset-${name}`);
  }

  outcome(name: 'quick' | 'thorough' | 'finetune'): Locator {
    return this.page.getByTestId(`outcome-${name}`);
  }

  /** Opens "Advanced: engineering presets and hyperparameters" (the presets, epochs and settings). */
  async openEngineering(): Promise<void> {
    if ((await this.engineering.getAttribute('open')) === null) await this.engineering.locator('> summary').click();
  }

  async closeEngineering(): Promise<void> {
    if ((await this.engineering.getAttribute('open')) !== null) await this.engineering.locator('> summary').click();
  }

  /** Picks a preset and a number of epochs under Advanced, then clicks Start. */
  async train(preset: string, epochs: number): Promise<void> {
    await this.openEngineering();
    await this.preset(preset).click();
    await this.epochs.fill(String(epochs));
    await this.start.click();
  }
}
