// The entry of the command line and of web mode (out/main/cli.js; bin/dino-explorer.js runs it from the
// sources in a checkout): the CLI face, with the web face handed in for `serve`. It sits above both, so
// neither face imports the other; web mode is loaded only when `serve` runs.
import { main } from '../cli/command-runner';

process.exitCode = await main(process.argv.slice(2), { webMode: async () => (await import('../server/web-mode')).webMode });
