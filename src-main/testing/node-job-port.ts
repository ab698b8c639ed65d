import type { MessagePort } from 'node:worker_threads';
import type { JobPort } from '../compute/protocol';

/** Node's MessagePort as the page's end of a job (serveJobPort's JobPort): the tests' GPU window serves jobs on these. */
export function nodeJobPort(port: MessagePort): JobPort {
  return {
    postMessage: (m) => port.postMessage(m),
    addEventListener: (_type, listener) => void port.on('message', (data) => listener({ data })),
    start: () => port.start(),
  };
}
