// Reads one weights file in a fresh process and prints the outcome and the process's peak resident
// memory as JSON: the hostile-input tests measure a zip bomb's cost this way, since a worker's heap
// limit does not count buffers and the test runner's own memory mixes in every other test.
//   node --import tsx src-main/dino/weights/read-probe.ts FILE
import { loadDinoWeights } from './load';

const file = process.argv[2];
if (!file) throw new Error('usage: read-probe.ts FILE');
const t0 = performance.now();
let error: string | null = null;
try {
  loadDinoWeights(file);
} catch (e) {
  error = e instanceof Error ? e.message : String(e);
}
process.stdout.write(`${JSON.stringify({ error, ms: performance.now() - t0, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
