// Builds the optional native BLAS addon (npm run build:native). Uses the Node headers installed beside
// the running node when present, so no download is needed offline; a failure leaves the app on wasm.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
// npm puts its bundled node-gyp on PATH for scripts and names it in npm_config_node_gyp
const gyp = process.env.npm_config_node_gyp;
const cmd = gyp ? process.execPath : 'node-gyp';
const r = spawnSync(cmd, gyp ? [gyp, ...args] : args, { cwd: here, stdio: 'inherit' });
process.exit(r.status ?? 1);
