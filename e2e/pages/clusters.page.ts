import type { Locator, Page } from '@playwright/test';

/** The Clusters view: find clusters, cards, rename, open, export. */
export class ClustersPage {
  readonly view: Locator;
  readonly method: Locator;
  readonly k: Locator;
  readonly minSize: Locator;
  readonly run: Locator;
  readonly summary: Locator;
  readonly noise: Locator;
  readonly cards: Locator;
  readonly exportButton: Locator;
  readonly exportDialog: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('clusters-view');
    this.method = page.getByTestId('cluster-method');
    this.k = page.getByTestId('cluster-k');
    this.minSize = page.getByTestId('cluster-min-size');
    this.run = page.getByTestId('cluster-run');
    this.summary = page.getByTestId('clustering-summary');
    this.noise = page.getByTestId('clustering-noise');
    this.cards = page.getByTestId('cluster-card');
    this.exportButton = page.getByTestId('export-open');
    this.exportDialog = page.getByTestId('export-dialog');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-clusters').click();
  }

  card(i: number): Locator {
    return this.cards.nth(i);
  }

  async rename(card: Locator, name: string): Promise<void> {
    await card.getByTestId('cluster-name').click();
    const input = card.getByTestId('cluster-name-input');
    await input.fill(name);
    await input.press('Enter');
  }
}
