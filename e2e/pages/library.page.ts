import { expect, type Locator, type Page } from '@playwright/test';

/** the part of HTMLImageElement the checks read (this tsconfig has no DOM lib) */
interface Img {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
import type { AppHandle } from '../fixtures';

/** The Library view: first-run choices, import progress and the virtual thumbnail grid. */
export class LibraryPage {
  readonly page: Page;
  readonly firstRun: Locator;
  readonly useSamplesButton: Locator;
  readonly importPanel: Locator;
  readonly grid: Locator;
  readonly cells: Locator;
  readonly thumbs: Locator;
  readonly count: Locator;

  constructor(private readonly app: AppHandle) {
    this.page = app.page;
    this.firstRun = this.page.getByTestId('first-run');
    this.useSamplesButton = this.page.getByTestId('use-samples');
    this.importPanel = this.page.getByTestId('import-progress');
    this.grid = this.page.getByTestId('thumb-grid');
    this.cells = this.page.getByTestId('grid-cell');
    this.thumbs = this.page.getByTestId('grid-thumb');
    this.count = this.page.getByTestId('library-count');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-library').click();
  }

  async useSamples(): Promise<void> {
    await this.useSamplesButton.click();
  }

  /** Imports a folder: the path field in web mode, the (stubbed) native dialog in Electron. */
  async importFolder(folder: string): Promise<void> {
    if (this.app.mode === 'electron') {
      await this.app.electron!.evaluate(({ dialog }, f) => {
        dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [f] })) as typeof dialog.showOpenDialog;
      }, folder);
      await this.page.getByTestId('choose-folder').click();
      return;
    }
    await this.page.getByTestId('folder-path').fill(folder);
    await this.page.getByTestId('import-folder').click();
  }

  /** Waits for the import panel to report the job done and returns its "done / total" text. */
  async waitForImportDone(timeout = 60_000): Promise<string> {
    await expect(this.importPanel).toBeVisible();
    const job = this.importPanel.getByTestId('job-import');
    await expect(job).toHaveAttribute('data-state', 'done', { timeout });
    return (await job.getByTestId('job-amount').textContent()) ?? '';
  }

  async photoCount(): Promise<number> {
    const text = (await this.count.textContent()) ?? '';
    return Number(text.replace(/[^0-9]/g, ''));
  }

  /** How many grid images have actually decoded (naturalWidth > 0). */
  async decodedThumbnails(): Promise<number> {
    return this.thumbs.evaluateAll((imgs) => imgs.filter((i) => (i as unknown as Img).complete && (i as unknown as Img).naturalWidth > 0).length);
  }

  async openPhoto(index: number): Promise<void> {
    await this.page.locator(`[data-testid="grid-cell"][data-index="${index}"]`).click();
  }
}
