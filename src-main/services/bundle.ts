/**
 * True when this code runs from the build (out/main/*.js: Electron, `node out/main/cli.js`, the
 * packaged app), false when it runs from the TypeScript sources (tsx, vitest): a bundled module's
 * URL is its chunk's, which ends in .js.
 */
export const fromBundle = !import.meta.url.endsWith('.ts');
