import type { FileHandle } from 'node:fs/promises';

/**
 * Reads a file through an open handle from `position` to its current end, a megabyte at a time,
 * handing each chunk to `each` (which may keep nothing of the buffer past its call: the line
 * splitter copies what it holds back). `each` answers true to stop after that chunk. Returns the
 * position after the last byte read.
 */
export async function readFrom(file: FileHandle, position: number, each: (chunk: Buffer) => Promise<boolean>): Promise<number> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return position;
    position += bytesRead;
    if (await each(buffer.subarray(0, bytesRead))) return position;
  }
}
