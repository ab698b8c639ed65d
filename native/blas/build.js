// Builds the optional native BLAS addon. `npm run build:native` shows the compiler's output and fails
// loudly; `--optional` (npm's install step) prints one line either way and never fails the install:
// without the addon the app trains on wasm alone. Uses the Node headers installed beside the running
// node when present, so no download is needed offline. This is our own N-API addon, ABI-stable across
// Node and Electron: nothing here rebuilds a dependency for Electron.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes('--optional');
const say = (line) => process.stdout.write(`native BLAS: ${line}\n`);

/** Why the addon cannot be built here, or null when it is worth trying. */
function cannotBuild() {
  if (process.env.DINO_NATIVE === '0') return 'skipped (DINO_NATIVE=0)';
  // the addon opens the BLAS with dlopen, which Windows does not have
  if (process.platform === 'win32') return 'not available on Windows';
  const cc = process.env.CC || 'cc';
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    const how = process.platform === 'darwin' ? 'xcode-select --install' : 'e.g. sudo apt-get install build-essential';
    return `no C compiler found (${how}), then npm run build:native`;
  }
  return null;
}

if (optional) {
  const why = cannotBuild();
  if (why) {
    say(`${why}; training runs on wasm alone`);
    process.exit(0);
  }
}

const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
// npm names its bundled node-gyp in npm_config_node_gyp for scripts; run by hand, look beside npm
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const cmd = gyp ? process.execPath : 'node-gyp';
const r = spawnSync(cmd, gyp ? [gyp, ...args] : args, { cwd: here, stdio: optional ? 'pipe' : 'inherit', encoding: 'utf8' });
if (!optional) process.exit(r.status ?? 1);

if (r.status === 0) {
  say('built (training uses the system BLAS when one is found; the status bar says which)');
} else {
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim());
  const reason = r.error?.message ?? lines.find((l) => /error/i.test(l) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l)) ?? `node-gyp exited with ${r.status}`;
  say(`not built (${reason.slice(0, 160)}); training runs on wasm alone. npm run build:native shows why`);
}
process.exit(0);
