import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

// SHA-256: OpenSSL runs it with the CPU's SHA extensions where present (about 2 GB/s), so hashing
// a photo costs far less than decoding it; and it is collision-safe for near-duplicate detection.
const ALGORITHM = 'sha256';

/** Content hash of bytes already in memory (the importer reads each file once for hash and decode). */
export function hashBytes(bytes: Uint8Array): string {
  return createHash(ALGORITHM).update(bytes).digest('hex');
}

/** Content hash of a file streamed from disk, for files too big to hold in memory. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash(ALGORITHM);
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}
