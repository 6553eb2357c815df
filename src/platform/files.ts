import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseHandle, DbOrTrx } from '../db/database.js';
import { isoNow, newId } from '../db/helpers.js';
import { deriveKey, sha256Hex } from './crypto.js';
import { notFound } from './errors.js';

/**
 * Files (evidence, scans of paper slips): AES-256-GCM at rest under the data directory, key derived
 * from the instance secret, SHA-256 of the original recorded (DESIGN.md).
 */
export function createFileStore(deps: { handle: DatabaseHandle; dataDir: string; secret: string; clock: () => Date }) {
  const key = deriveKey(deps.secret, 'file-encryption');
  const pathOf = (schoolId: string, id: string) => join(deps.dataDir, 'files', schoolId, `${id}.enc`);
  return {
    /** Writes the encrypted file, then its row in the caller's transaction; a failed transaction leaves no row. */
    async store(trx: DbOrTrx, schoolId: string, file: { fileName: string; contentType: string; data: Buffer; createdBy: string | null }) {
      const id = newId();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(file.data), cipher.final()]);
      const path = pathOf(schoolId, id);
      mkdirSync(join(deps.dataDir, 'files', schoolId), { recursive: true });
      writeFileSync(`${path}.tmp`, Buffer.concat([iv, cipher.getAuthTag(), body]), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
      const sha256 = sha256Hex(file.data);
      try {
        await trx
          .insertInto('stored_files')
          .values({
            school_id: schoolId,
            id,
            file_name: safeFileName(file.fileName),
            content_type: file.contentType,
            size: file.data.length,
            sha256,
            created_by: file.createdBy,
            created_at: isoNow(deps.clock),
          })
          .execute();
      } catch (error) {
        rmSync(path, { force: true });
        throw error;
      }
      return { id, sha256, size: file.data.length };
    },
    async read(db: DbOrTrx, schoolId: string, id: string) {
      const row = await db.selectFrom('stored_files').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('file');
      const sealed = readFileSync(pathOf(schoolId, id));
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      const data = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      if (sha256Hex(data) !== row.sha256) throw new Error(`Stored file ${id} does not match its recorded SHA-256`);
      return { meta: row, data };
    },
    /** Removes a file written for a transaction that then failed. */
    discard(schoolId: string, id: string): void {
      rmSync(pathOf(schoolId, id), { force: true });
    },
  };
}

export type FileStore = ReturnType<typeof createFileStore>;

/** A name safe to show and to offer as a download: no folders, no control characters. */
export function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? 'file';
  const cleaned = base
    .replace(/[\p{Cc}"<>|:*?]/gu, '_')
    .trim()
    .slice(0, 120);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned;
}

/** What the bytes are, by their signature — never trusting the declared type or the name. */
export function sniffContentType(data: Buffer): string | null {
  const starts = (...bytes: number[]) => bytes.every((byte, index) => data[index] === byte);
  const ascii = (from: number, text: string) => data.subarray(from, from + text.length).toString('latin1') === text;
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(0, 'RIFF') && ascii(8, 'AVI ')) return 'video/x-msvideo';
  if (starts(0x42, 0x4d) && data.length > 26) return 'image/bmp';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'image/tiff';
  if (ascii(4, 'ftyp')) {
    const brand = data.subarray(8, 12).toString('latin1');
    if (/^(heic|heix|hevc|hevx|mif1|msf1|avif)/.test(brand)) return 'image/heic';
    return 'video/mp4';
  }
  if (starts(0x1a, 0x45, 0xdf, 0xa3)) return 'video/webm';
  if (starts(0x00, 0x00, 0x01, 0xba) || starts(0x00, 0x00, 0x01, 0xb3)) return 'video/mpeg';
  if (ascii(0, '%PDF-')) return 'application/pdf';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'application/zip';
  if (data.subarray(0, 512).toString('utf8').trimStart().startsWith('<svg') || /<svg[\s>]/i.test(data.subarray(0, 1024).toString('utf8')))
    return 'image/svg+xml';
  if (!data.subarray(0, 4096).includes(0)) return 'text/plain';
  return null;
}

/** True for anything that is, or claims to be, an image or a video. */
export function isImageOrVideo(data: Buffer, declaredType: string | undefined, fileName: string): boolean {
  const sniffed = sniffContentType(data) ?? '';
  const declared = (declaredType ?? '').toLowerCase();
  const imageName = /\.(jpe?g|png|gif|webp|bmp|tiff?|heic|heif|avif|svg|mp4|m4v|mov|avi|wmv|webm|mkv|3gp|mpe?g)$/i.test(fileName);
  return /^(image|video)\//.test(sniffed) || /^(image|video)\//.test(declared) || imageName;
}
