import { expect, type Locator, type Page } from '@playwright/test';

/** the part of HTMLImageElement the checks read (this tsconfig has no DOM lib) */
interface Img {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

/** The full-size photo viewer with its metadata panel. */
export class ViewerPage {
  readonly root: Locator;
  readonly image: Locator;
  readonly name: Locator;
  readonly dimensions: Locator;
  readonly neighbours: Locator;
  readonly neighbourScores: Locator;
  readonly attentionToggle: Locator;
  readonly attention: Locator;

  constructor(readonly page: Page) {
    this.neighbours = page.getByTestId('neighbour');
    this.neighbourScores = page.getByTestId('neighbour-score');
    this.attentionToggle = page.getByTestId('attention-toggle');
    this.attention = page.getByTestId('attention-overlay');
    this.root = page.getByTestId('viewer');
    this.image = page.getByTestId('viewer-image');
    this.name = page.getByTestId('viewer-name');
    this.dimensions = page.getByTestId('viewer-dimensions');
  }

  async expectOpen(): Promise<void> {
    await expect(this.root).toBeVisible();
  }

  /** Waits until the full image has decoded; returns its natural size. */
  async loadedSize(): Promise<{ width: number; height: number }> {
    await expect.poll(() => this.image.evaluate((i) => (i as unknown as Img).naturalWidth)).toBeGreaterThan(0);
    return this.image.evaluate((i) => ({ width: (i as unknown as Img).naturalWidth, height: (i as unknown as Img).naturalHeight }));
  }

  /** How many neighbour thumbnails have decoded. */
  async decodedNeighbours(): Promise<number> {
    return this.neighbours.locator('img').evaluateAll((imgs) => imgs.filter((i) => (i as unknown as Img).complete && (i as unknown as Img).naturalWidth > 0).length);
  }

  async next(): Promise<void> {
    await this.page.keyboard.press('ArrowRight');
  }

  async previous(): Promise<void> {
    await this.page.keyboard.press('ArrowLeft');
  }

  async close(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await expect(this.root).toBeHidden();
  }
}
