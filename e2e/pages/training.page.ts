import type { Locator, Page } from '@playwright/test';

/** The Training panel: presets with time estimates, start/pause/stop, live charts. */
export class TrainingPage {
  readonly view: Locator;
  readonly epochs: Locator;
  readonly start: Locator;
  readonly run: Locator;
  readonly job: Locator;
  readonly lossChart: Locator;
  readonly entropyChart: Locator;
  readonly done: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('training-view');
    this.epochs = page.getByTestId('train-epochs');
    this.start = page.getByTestId('train-start');
    this.run = page.getByTestId('train-run');
    this.job = this.run.getByTestId('job-train');
    this.lossChart = page.getByTestId('chart-loss');
    this.entropyChart = page.getByTestId('chart-entropy');
    this.done = page.getByTestId('train-done');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-training').click();
  }

  preset(name: string): Locator {
    return this.page.getByTestId(`preset-${name}`);
  }

  /** Picks a preset and a number of epochs, then clicks Start. */
  async train(preset: string, epochs: number): Promise<void> {
    await this.preset(preset).click();
    await this.epochs.fill(String(epochs));
    await this.start.click();
  }
}
