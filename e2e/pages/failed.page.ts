import type { Locator, Page } from '@playwright/test';

/** The list of files an import could not read, with the reason for each. */
export class FailedFilesPage {
  readonly view: Locator;
  readonly rows: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId('failed-view');
    this.rows = page.getByTestId('failed-row');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-failed').click();
  }

  row(fileName: string): Locator {
    return this.rows.filter({ has: this.page.getByTestId('failed-path').filter({ hasText: fileName }) });
  }
}
