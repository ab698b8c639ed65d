// Random-access reader for the zip container torch.save writes since PyTorch 1.6.
// Why not fflate's unzipSync: a full checkpoint of ViT-B is over a gigabyte (student, teacher,
// optimizer moments) and we usually need only the teacher; reading entries at their offsets
// keeps memory to what is asked for. torch stores entries uncompressed; deflated entries (a file
// re-zipped by a tool) are inflated with fflate. Zip64 is handled for files past 4 GiB.
// A zip bomb (a few hundred KB that inflate to gigabytes) is refused from the directory alone,
// before a byte is inflated: each entry's inflated size is read there, capped by the caller, and may
// not claim a compression ratio that weights never reach; inflating writes into a buffer of exactly
// that size, so an entry that lies about it cannot grow past it either.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { inflateSync } from 'fflate';
import { UnsafePickleError } from './pickle-values';
import { WeightsFormatError, shown } from './tensor-map';

/**
 * Float weights hardly compress (about 1.1:1); a pickle's text 3-5:1. An entry over a megabyte that
 * claims more than this ratio is refused as a zip bomb (deflate itself tops out at 1032:1).
 */
export const MAX_DEFLATE_RATIO = 32;
const RATIO_FREE_BYTES = 1 << 20;

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

export class ZipFile {
  readonly entries = new Map<string, ZipEntry>();
  private constructor(
    private readonly fd: number,
    readonly fileSize: number,
    private readonly label: string,
  ) {}

  /** Opens a zip file; throws WeightsFormatError when it is not one or its directory is cut off. */
  static open(path: string, label = path): ZipFile {
    const fd = openSync(path, 'r');
    try {
      const zip = new ZipFile(fd, fstatSync(fd).size, label);
      zip.readDirectory();
      return zip;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Bytes [position, position + length) of the file; a short read means the file is truncated. */
  readAt(position: number, length: number): Buffer {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n === 0) throw new WeightsFormatError(`${this.label}: the file is truncated (wanted ${length} bytes at offset ${position}, file has ${this.fileSize})`);
      done += n;
    }
    return buf;
  }

  /**
   * The whole uncompressed content of an entry, checked against its CRC-32 (a damaged file fails
   * here). An entry whose directory record says it inflates past `maxBytes`, or compresses better
   * than MAX_DEFLATE_RATIO, is refused before anything is read.
   */
  read(name: string, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    const e = this.entries.get(name);
    const what = `entry ${shown(name)}`;
    if (!e) throw new WeightsFormatError(`${this.label}: the archive has no ${what}`);
    if (e.size > maxBytes) {
      throw new UnsafePickleError(`${this.label}: refused to load: ${what} would be ${mb(e.size)}, more than the ${mb(maxBytes)} such an entry ever needs`);
    }
    if (e.method === 0 && e.compressedSize !== e.size) throw new WeightsFormatError(`${this.label}: ${what} is corrupt (stored with two different sizes)`);
    if (e.method === 8 && e.size > RATIO_FREE_BYTES && e.size > MAX_DEFLATE_RATIO * e.compressedSize) {
      throw new UnsafePickleError(
        `${this.label}: refused to load: ${what} would inflate from ${mb(e.compressedSize)} to ${mb(e.size)}; ` +
          `weights never compress more than ${MAX_DEFLATE_RATIO}:1, so this looks like a zip bomb`,
      );
    }
    const start = this.dataOffset(e);
    const raw = this.readAt(start, e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) out = raw;
    else if (e.method === 8) {
      try {
        // into a buffer of the declared size: data that inflates further is cut there (and fails the CRC)
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new WeightsFormatError(`${this.label}: ${what} is corrupt (${shown((err as Error).message)})`);
      }
      if (out.length !== e.size) throw new WeightsFormatError(`${this.label}: ${what} inflates to ${out.length} bytes, expected ${e.size}`);
    } else throw new WeightsFormatError(`${this.label}: ${what} uses zip compression method ${e.method}, which is not supported`);
    if (crc32(out) !== e.crc) throw new WeightsFormatError(`${this.label}: ${what} is corrupt (CRC-32 mismatch): the file was damaged`);
    return out;
  }

  private dataOffset(e: ZipEntry): number {
    const h = this.readAt(e.localHeaderOffset, 30);
    if (h.readUInt32LE(0) !== SIG_LOCAL) throw new WeightsFormatError(`${this.label}: corrupt zip (no local header for ${shown(e.name)})`);
    const start = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressedSize > this.fileSize) {
      throw new WeightsFormatError(`${this.label}: the file is truncated (entry ${shown(e.name)} ends at byte ${start + e.compressedSize}, file has ${this.fileSize})`);
    }
    return start;
  }

  private readDirectory(): void {
    if (this.fileSize < 22) throw new WeightsFormatError(`${this.label}: not a zip archive (${this.fileSize} bytes)`);
    const tailLen = Math.min(this.fileSize, 22 + 0xffff);
    const tail = this.readAt(this.fileSize - tailLen, tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      const head = this.readAt(0, 4);
      const msg = head.readUInt32LE(0) === SIG_LOCAL ? 'the zip archive is truncated (no end-of-directory record)' : 'not a zip archive';
      throw new WeightsFormatError(`${this.label}: ${msg}`);
    }
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    const eocdPos = this.fileSize - tailLen + eocd;
    if ((count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) && eocdPos >= 20) {
      const loc = this.readAt(eocdPos - 20, 20);
      if (loc.readUInt32LE(0) === SIG_EOCD64_LOCATOR) {
        const rec = this.readAt(Number(loc.readBigUInt64LE(8)), 56);
        if (rec.readUInt32LE(0) !== SIG_EOCD64) throw new WeightsFormatError(`${this.label}: corrupt zip64 directory`);
        count = Number(rec.readBigUInt64LE(32));
        cdSize = Number(rec.readBigUInt64LE(40));
        cdOffset = Number(rec.readBigUInt64LE(48));
      }
    }
    if (cdOffset + cdSize > this.fileSize) throw new WeightsFormatError(`${this.label}: the zip archive is truncated (directory past the end of the file)`);
    const cd = this.readAt(cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw new WeightsFormatError(`${this.label}: corrupt zip directory`);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
      // zip64 extra field: 64-bit values for exactly the fields saturated at 0xffffffff, in this order
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (size === 0xffffffff) {
            size = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q));
        }
        x += 4 + len;
      }
      this.entries.set(name, { name, method, crc, compressedSize, size, localHeaderOffset });
      p = xEnd + commentLen;
    }
  }
}

function mb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(bytes >= 10 << 20 ? 0 : 1)} MB` : `${bytes} bytes`;
}
