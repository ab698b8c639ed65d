// Types of third-party-licences.js for the TypeScript that imports it (e2e/package.spec.ts).

/** out/THIRD-PARTY-LICENCES.txt */
export const NOTICES: string;
/** Packages electron-builder.yml leaves out of the installers (`- "!node_modules/NAME/**"` under files). */
export function leftOutPackages(): Set<string>;
/** Every installed package reachable from the app's dependencies: its folder and its package.json. */
export function shippedPackages(): { dir: string; pkg: { name: string; version: string; license?: unknown } }[];
/** Writes NOTICES; returns it and how many packages it lists. */
export function writeNotices(): { file: string; packages: number };
