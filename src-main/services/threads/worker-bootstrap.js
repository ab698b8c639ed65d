// Entry of every worker thread: registers tsx so the worker can load the TypeScript module named in
// workerData (node cannot start a worker on a .ts file, and workers do not inherit the loader).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
