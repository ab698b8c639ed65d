#!/usr/bin/env node
// Runs the TypeScript CLI straight from the checkout: tsx compiles on load, so `npx dino-explorer`
// works right after `npm ci` with no build step. Workers re-register tsx themselves (see jobs/worker).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
