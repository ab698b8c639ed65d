// Electron's main entry (out/main/index.js). It loads main.ts from the source tree through tsx, the
// way bin/dino-explorer.js runs the CLI, instead of bundling it: the core starts worker threads on
// its own .ts files by path (services/worker-host.ts), and those paths only exist in the source tree.
import { register } from 'tsx/esm/api';

register();
// A computed URL, so the bundler leaves main.ts (and the whole core) out of this file.
const main = new URL(['..', '..', 'src-main', 'app', 'main.ts'].join('/'), import.meta.url);
await import(main.href);
