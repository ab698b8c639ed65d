// The CLI's entry in the build (out/main/cli.js): `node out/main/cli.js <command>`, no TypeScript
// loader needed. bin/dino-explorer.js runs the same main() from the sources in a checkout.
import { main } from './main';

process.exitCode = await main(process.argv.slice(2));
