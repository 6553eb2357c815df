import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isImageOrVideo, safeFileName, sniffContentType } from './files.js';

/** Bytes from a mix of byte values and Latin-1 text, so each signature reads as the format spells it. */
const bytes = (...parts: Array<number[] | string>) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

/** An ISO base media file (MP4, MOV, HEIC): a 24-byte box whose type is “ftyp” at offset 4, then the brand. */
const isoMedia = (brand: string) => bytes([0x00, 0x00, 0x00, 0x18], 'ftyp', brand, [0x00, 0x00, 0x00, 0x00], brand, 'mif1');

const jpeg = bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], 'JFIF', [0x00, 0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00, 0xff, 0xd9]);
const png = bytes(
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  [0x00, 0x00, 0x00, 0x0d],
  'IHDR',
  [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00],
);
const pdf = bytes('%PDF-1.7\n%', [0xe2, 0xe3, 0xcf, 0xd3], '\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
const text = bytes('Year 6 group chat screenshots were shown to me at break.\nNames withheld.\n');

describe('recognising a file by its bytes', () => {
  const cases: Array<[string, Buffer, string | null]> = [
    ['a JPEG', jpeg, 'image/jpeg'],
    ['a PNG', png, 'image/png'],
    ['a GIF89a', bytes('GIF89a', [0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00]), 'image/gif'],
    ['a GIF87a', bytes('GIF87a', [0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]), 'image/gif'],
    ['a WebP image', bytes('RIFF', [0x24, 0x00, 0x00, 0x00], 'WEBP', 'VP8 ', [0x18, 0x00, 0x00, 0x00]), 'image/webp'],
    ['an AVI video (RIFF, but not WebP)', bytes('RIFF', [0x24, 0x00, 0x00, 0x00], 'AVI ', 'LIST'), 'video/x-msvideo'],
    ['an MP4 video from its ftyp box at offset 4', isoMedia('isom'), 'video/mp4'],
    ['a QuickTime (.mov) video as video', isoMedia('qt  '), 'video/mp4'],
    ['a HEIC photo from its ftyp brand', isoMedia('heic'), 'image/heic'],
    ['a HEIF photo with the mif1 brand', isoMedia('mif1'), 'image/heic'],
    ['a WebM video', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01], 'webm'), 'video/webm'],
    ['a PDF', pdf, 'application/pdf'],
    ['an SVG image', bytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'), 'image/svg+xml'],
    ['plain text', text, 'text/plain'],
    ['nothing for binary it does not know', bytes([0x7f], 'ELF', [0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]), null],
  ];
  for (const [what, data, expected] of cases) it(`recognises ${what}`, () => assert.equal(sniffContentType(data), expected));

  it('ignores “ftyp” anywhere but offset 4', () => assert.equal(sniffContentType(bytes('ftyp', 'isom', 'isom', 'mp41')), 'text/plain'));
});

describe('deciding whether an upload is an image or a video', () => {
  const cases: Array<[string, Buffer, string | undefined, string, boolean]> = [
    ['a JPEG declared as text/plain and named notes.txt', jpeg, 'text/plain', 'notes.txt', true],
    ['a JPEG with no declared type and no extension', jpeg, undefined, 'IMG_0412', true],
    ['an MP4 declared as application/octet-stream', isoMedia('isom'), 'application/octet-stream', 'upload', true],
    ['anything declared as image/png', text, 'image/png', 'upload', true],
    ['anything declared as IMAGE/PNG, whatever the case', text, 'IMAGE/PNG', 'upload', true],
    ['anything declared as a video', text, 'video/quicktime', 'upload', true],
    ['anything named .mov', text, undefined, 'clip.mov', true],
    ['anything named .MOV, whatever the case', text, 'application/octet-stream', 'CLIP.MOV', true],
    ['anything named .jpeg', text, 'text/plain', 'photo.jpeg', true],
  ];
  for (const [what, data, declared, name, expected] of cases)
    it(`treats ${what} as an image or video`, () => assert.equal(isImageOrVideo(data, declared, name), expected));

  const notImages: Array<[string, Buffer, string | undefined, string]> = [
    ['a PDF named report.pdf', pdf, 'application/pdf', 'report.pdf'],
    ['plain text named notes.txt', text, 'text/plain', 'notes.txt'],
    ['a file whose name only contains an image extension', text, 'text/plain', 'photo.jpg.txt'],
  ];
  for (const [what, data, declared, name] of notImages)
    it(`does not treat ${what} as an image or video`, () => assert.equal(isImageOrVideo(data, declared, name), false));
});

describe('making a file name safe to show and download', () => {
  const cases: Array<[string, string, string]> = [
    ['strips folders from a relative path', '../../etc/passwd', 'passwd'],
    ['strips Windows folders', 'C:\\Users\\sam\\Desktop\\screenshot.png', 'screenshot.png'],
    ['replaces a NUL', 'evidence\u0000.txt', 'evidence_.txt'],
    ['replaces a line break that could split a header', 'chat\r\nlog.txt', 'chat__log.txt'],
    ['replaces other control characters', 'bell\u0007tab\tdel\u007f.txt', 'bell_tab_del_.txt'],
    ['replaces characters that break quoting or Windows names', 'report "final" <v2>|a:b*?.pdf', 'report _final_ _v2__a_b__.pdf'],
    ['keeps ordinary names, accents and dashes', 'Zoë Ndiaye — statement (2).docx', 'Zoë Ndiaye — statement (2).docx'],
    ['trims surrounding spaces', '  notes.txt  ', 'notes.txt'],
    ['gives “file” for “..”', '..', 'file'],
    ['gives “file” for “.”', '.', 'file'],
    ['gives “file” for a path ending in “..”', 'uploads/../..', 'file'],
    ['gives “file” for an empty name', '', 'file'],
    ['gives “file” for spaces only', '   ', 'file'],
    ['gives “file” for a bare folder', 'evidence/', 'file'],
  ];
  for (const [behaviour, name, expected] of cases) it(behaviour, () => assert.equal(safeFileName(name), expected));

  it('cuts a long name to 120 characters', () => assert.equal(safeFileName(`${'a'.repeat(200)}.png`).length, 120));
});
