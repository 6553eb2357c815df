import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createGunzip, gzipSync } from 'node:zlib';
import { compileSnapshot, writeSnapshotFile } from '../filtering/compile.js';
import { runHelper } from '../filtering/helper.js';
import type { FilterModel } from '../filtering/model.js';
import { fieldText, LineSplitter, LogLine, logFormats, maxLineBytes, parseLine, userText, type LineRefusal, type LogFormat } from './parse.js';

/** The fields of a parsed line as text, for comparing with what a test expects. */
interface Seen {
  time: number;
  client: string;
  user: string | undefined;
  method: string;
  url: string;
  status: number;
  blocked: boolean;
  category: string;
  group: string;
  bytes: number;
  elapsed: number;
  reason: string;
  search: string;
  groupNumber: number;
}

function parse(format: LogFormat, line: string | Buffer): { refused: string | null; seen: Seen } {
  // Some unrelated bytes either side: the parser must keep to the range it is given.
  const body = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const bytes = Buffer.concat([Buffer.from('junk\n'), body, Buffer.from('\nmore junk')]);
  const out = new LogLine();
  const refused = parseLine(format, bytes, 5, 5 + body.length, out);
  return {
    refused,
    seen: {
      time: out.time,
      client: fieldText(bytes, out.clientStart, out.clientEnd),
      user: userText(bytes, out),
      method: fieldText(bytes, out.methodStart, out.methodEnd),
      url: fieldText(bytes, out.urlStart, out.urlEnd),
      status: out.status,
      blocked: out.blocked,
      category: fieldText(bytes, out.categoryStart, out.categoryEnd),
      group: fieldText(bytes, out.groupStart, out.groupEnd),
      bytes: out.bytes,
      elapsed: out.elapsed,
      reason: fieldText(bytes, out.reasonStart, out.reasonEnd),
      search: fieldText(bytes, out.searchStart, out.searchEnd),
      groupNumber: out.groupNumber,
    },
  };
}

const nothing: Seen = {
  time: 0,
  client: '',
  user: undefined,
  method: '',
  url: '',
  status: 0,
  blocked: false,
  category: '',
  group: '',
  bytes: 0,
  elapsed: 0,
  reason: '',
  search: '',
  groupNumber: 0,
};

const allRefusals: readonly LineRefusal[] = [
  'empty line',
  'too few fields',
  'bad time',
  'bad duration',
  'bad status',
  'bad size',
  'no URL',
  'unknown format',
  'unreadable line',
];

/** Deterministic "random" bytes (no newlines): a line of binary garbage. */
function garbage(seed: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const byte = state >>> 24;
    bytes[i] = byte === 10 ? 11 : byte;
  }
  return bytes;
}

const longPath = `/search?q=${'a'.repeat(20_000)}`;

describe('reading Squid access.log lines', () => {
  const plain = '1764672000.123    245 10.20.1.15 TCP_MISS/200 5120 GET http://www.example.org/page.html - HIER_DIRECT/93.184.216.34 text/html';
  const cases: Array<{ name: string; line: string | Buffer; expect: Partial<Seen> }> = [
    {
      name: 'reads every field of an ordinary request, with the padded elapsed time',
      line: plain,
      expect: {
        time: 1764672000123,
        elapsed: 245,
        client: '10.20.1.15',
        reason: 'TCP_MISS',
        status: 200,
        bytes: 5120,
        method: 'GET',
        url: 'http://www.example.org/page.html',
        user: undefined,
        blocked: false,
      },
    },
    {
      name: 'marks TCP_DENIED as blocked',
      line: '1764672001.500      0 10.20.1.16 TCP_DENIED/403 3985 GET http://games.example/ pupil1 HIER_NONE/- text/html',
      expect: { blocked: true, status: 403, reason: 'TCP_DENIED', user: 'pupil1', url: 'http://games.example/' },
    },
    {
      name: 'marks any result code containing DENIED as blocked',
      line: '1764672001.500      3 10.20.1.16 TCP_DENIED_REPLY/403 120 GET http://reply.example/ - HIER_DIRECT/192.0.2.7 text/html',
      expect: { blocked: true, reason: 'TCP_DENIED_REPLY' },
    },
    {
      name: 'keeps a CONNECT target as host:port and URL-decodes the user',
      line: '1764672002.007  60012 10.20.1.17 TCP_TUNNEL/200 48213 CONNECT www.google.com:443 jo%40school HIER_DIRECT/142.250.1.1 -',
      expect: { method: 'CONNECT', url: 'www.google.com:443', user: 'jo@school', elapsed: 60012, status: 200 },
    },
    {
      name: 'takes an IPv6 client address whole',
      line: '1764672003.000     12 2001:db8:10::15 TCP_MISS/304 0 GET http://cdn.example/app.js - HIER_DIRECT/2001:db8::1 application/javascript',
      expect: { client: '2001:db8:10::15', status: 304, bytes: 0 },
    },
    {
      name: 'lower-cases the user and keeps a "%" that is not an escape',
      line: '1764672004.000      1 10.20.1.18 TCP_MISS/200 10 GET http://a.test/ Jo.Bloggs%GG HIER_DIRECT/192.0.2.1 text/plain',
      expect: { user: 'jo.bloggs%gg' },
    },
    {
      name: 'ignores the "\\r" of a CRLF ending',
      line: `${plain}\r`,
      expect: { url: 'http://www.example.org/page.html', status: 200 },
    },
    {
      name: 'tolerates extra fields after the MIME type (a customised logformat)',
      line: `${plain} "Mozilla/5.0 (X11)" referer=http://x.test/ 42`,
      expect: { url: 'http://www.example.org/page.html', bytes: 5120 },
    },
    {
      name: 'tolerates padding before the time and after the last field',
      line: `   ${plain}   `,
      expect: { time: 1764672000123, url: 'http://www.example.org/page.html' },
    },
    {
      name: 'reads a very long URL',
      line: `1764672005.250     80 10.20.1.19 TCP_MISS/200 900 GET http://search.example${longPath} - HIER_DIRECT/192.0.2.2 text/html`,
      expect: { url: `http://search.example${longPath}`, bytes: 900 },
    },
    {
      name: 'passes raw UTF-8 bytes in a URL through as text',
      line: Buffer.from('1764672006.000      5 10.20.1.20 TCP_MISS/200 77 GET http://café.example/ünï - HIER_DIRECT/192.0.2.3 text/html', 'utf8'),
      expect: { url: 'http://café.example/ünï' },
    },
    {
      name: 'reads an aborted request (NONE_NONE/000) as status unknown',
      line: '1764672007.999      0 10.20.1.21 NONE_NONE/000 0 GET http://gone.example/ - HIER_NONE/- -',
      expect: { status: 0, reason: 'NONE_NONE', time: 1764672007999 },
    },
    {
      name: 'reads a time without milliseconds, or with more digits than three',
      line: '1764672008.1234567      0 10.20.1.22 TCP_HIT/200 1 GET http://t.example/ - HIER_NONE/- text/html',
      expect: { time: 1764672008123 },
    },
    {
      name: 'reads a "-" size as unknown',
      line: plain.replace(' 5120 ', ' - '),
      expect: { bytes: 0, status: 200 },
    },
    {
      name: 'knows nothing of categories or groups: Squid does not log them',
      line: plain,
      expect: { category: '', group: '', search: '', groupNumber: 0 },
    },
  ];
  for (const { name, line, expect } of cases) {
    it(name, () => {
      const { refused, seen } = parse('squid', line);
      assert.equal(refused, null);
      for (const [key, value] of Object.entries(expect)) assert.deepEqual(seen[key as keyof Seen], value, key);
    });
  }

  const refusals: Array<{ name: string; line: string | Buffer; reason: LineRefusal }> = [
    { name: 'an empty line', line: '', reason: 'empty line' },
    { name: 'a line of spaces', line: '      ', reason: 'empty line' },
    { name: 'a lone "\\r"', line: '\r', reason: 'empty line' },
    { name: 'a line cut after the status', line: '1764672000.123    245 10.20.1.15 TCP_MISS/200', reason: 'too few fields' },
    {
      name: 'a line without the MIME type',
      line: '1764672000.123    245 10.20.1.15 TCP_MISS/200 5120 GET http://www.example.org/ - HIER_DIRECT/93.184.216.34',
      reason: 'too few fields',
    },
    { name: 'a word for a time', line: plain.replace('1764672000.123', 'yesterday'), reason: 'bad time' },
    { name: 'a time ending in a dot', line: plain.replace('1764672000.123', '1764672000.'), reason: 'bad time' },
    { name: 'a time with a letter in it', line: plain.replace('1764672000.123', '1764672000.12a'), reason: 'bad time' },
    { name: 'a negative elapsed time', line: plain.replace('   245', '  -245'), reason: 'bad duration' },
    { name: 'a status with a letter in it', line: plain.replace('TCP_MISS/200', 'TCP_MISS/2x0'), reason: 'bad status' },
    { name: 'a result code without a status', line: plain.replace('TCP_MISS/200', 'TCP_MISS'), reason: 'bad status' },
    { name: 'a status of more than three digits', line: plain.replace('TCP_MISS/200', 'TCP_MISS/2000'), reason: 'bad status' },
    { name: 'a size that is not a number', line: plain.replace(' 5120 ', ' 5k '), reason: 'bad size' },
    { name: 'a "-" for the URL', line: plain.replace('http://www.example.org/page.html', '-'), reason: 'no URL' },
  ];
  for (const { name, line, reason } of refusals) {
    it(`refuses ${name} as "${reason}"`, () => {
      const { refused, seen } = parse('squid', line);
      assert.equal(refused, reason);
      assert.deepEqual(seen, nothing, 'a refused line leaves nothing behind');
    });
  }
});

/** An e2guardian log line from its fields, in format 8 order with both client columns unless given otherwise. */
function e2g(fields: Partial<Record<keyof typeof e2gDefaults, string>>, drop: ReadonlyArray<keyof typeof e2gDefaults> = []): string {
  const all = { ...e2gDefaults, ...fields };
  return (Object.keys(all) as Array<keyof typeof e2gDefaults>)
    .filter((key) => !drop.includes(key))
    .map((key) => all[key])
    .join('\t');
}

const e2gDefaults = {
  time: '1764672000.123',
  server: '',
  user: 'pupil1',
  clientIp: '10.20.1.15',
  clientHost: '10.20.1.15',
  url: 'http://www.example.org/page.html',
  method: 'GET',
  status: '200',
  size: '5120',
  mime: 'text/html',
  userAgent: '-',
  squidResult: '-',
  duration: '35',
  squidPeer: '-',
  messageNo: '0',
  what: '-',
  weight: '0',
  category: '-',
  groupName: 'Pupils',
  groupNumber: '2',
  searchTerms: '-',
  flags: '-',
};

describe('reading e2guardian lines (logfileformat 8)', () => {
  const cases: Array<{ name: string; line: string; expect: Partial<Seen> }> = [
    {
      name: 'reads every field of an allowed request',
      line: e2g({}),
      expect: {
        time: 1764672000123,
        user: 'pupil1',
        client: '10.20.1.15',
        url: 'http://www.example.org/page.html',
        method: 'GET',
        status: 200,
        bytes: 5120,
        elapsed: 35,
        blocked: false,
        reason: '',
        category: '',
        group: 'Pupils',
        groupNumber: 2,
        search: '',
      },
    },
    {
      name: 'marks *DENIED* as blocked and takes the category from its own field',
      line: e2g({ url: 'http://games.example/', status: '403', messageNo: '500', what: '*DENIED* Banned site: games.example', category: 'Games' }),
      expect: { blocked: true, status: 403, reason: '*DENIED* Banned site: games.example', category: 'Games' },
    },
    {
      name: 'gives no category for a banned-site block that names none',
      line: e2g({ status: '403', what: '*DENIED* Banned site: games.example' }),
      expect: { blocked: true, category: '' },
    },
    {
      name: 'marks *DENIED-POST* and a denial after *SCANNED* as blocked',
      line: e2g({ status: '403', what: '*SCANNED* *DENIED-POST* Banned upload' }),
      expect: { blocked: true },
    },
    {
      name: 'does not mark an exception as blocked, even when its reason mentions DENIED',
      line: e2g({ what: '*EXCEPTION* Exception site match: DENIED.example' }),
      expect: { blocked: false, reason: '*EXCEPTION* Exception site match: DENIED.example' },
    },
    {
      name: 'reads the layout without the host-name column (logclientnameandip = off)',
      line: e2g({ clientIp: 'lab-pc-07.school.test' }, ['clientHost']),
      expect: { client: 'lab-pc-07.school.test', url: 'http://www.example.org/page.html', method: 'GET', status: 200, group: 'Pupils', groupNumber: 2 },
    },
    {
      name: 'reads empty fields as none (usedashforblank = off)',
      line: e2g({ user: '', userAgent: '', squidResult: '', squidPeer: '', what: '', category: '', searchTerms: '', flags: '' }),
      expect: { user: undefined, reason: '', category: '', search: '', group: 'Pupils', status: 200 },
    },
    {
      name: 'counts a user that is only the client address (ip authentication) as none',
      line: e2g({ user: '10.20.1.15' }),
      expect: { user: undefined, client: '10.20.1.15' },
    },
    {
      name: 'keeps the search terms e2guardian extracted',
      line: e2g({ url: 'https://www.google.com/search?q=rain+coats', searchTerms: 'rain coats' }),
      expect: { search: 'rain coats' },
    },
    {
      name: 'reads format 5/6 lines, which end at the group number',
      line: e2g({}, ['searchTerms', 'flags']),
      expect: { group: 'Pupils', groupNumber: 2, search: '' },
    },
    {
      name: 'keeps a CONNECT URL as logged',
      line: e2g({ url: 'https://www.google.com:443', method: 'CONNECT', size: '0' }),
      expect: { url: 'https://www.google.com:443', method: 'CONNECT', bytes: 0 },
    },
    {
      name: 'takes an IPv6 client and a URL-encoded user',
      line: e2g({ user: 'Jo%40School', clientIp: '2001:db8:10::15', clientHost: '2001:db8:10::15' }),
      expect: { user: 'jo@school', client: '2001:db8:10::15' },
    },
    {
      name: 'ignores the "\\r" of a CRLF ending and extra trailing fields',
      line: `${e2g({})}\tsomething\tnew\r`,
      expect: { url: 'http://www.example.org/page.html', group: 'Pupils' },
    },
    {
      name: 'reads a negative duration (a clock step) as unknown rather than refusing the line',
      line: e2g({ duration: '-12' }),
      expect: { elapsed: 0, status: 200 },
    },
    {
      name: 'reads a very long URL',
      line: e2g({ url: `http://search.example${longPath}` }),
      expect: { url: `http://search.example${longPath}` },
    },
  ];
  for (const { name, line, expect } of cases) {
    it(name, () => {
      const { refused, seen } = parse('e2guardian', line);
      assert.equal(refused, null);
      for (const [key, value] of Object.entries(expect)) assert.deepEqual(seen[key as keyof Seen], value, key);
    });
  }

  it('passes raw UTF-8 bytes in a URL through as text', () => {
    const { refused, seen } = parse('e2guardian', Buffer.from(e2g({ url: 'http://café.example/ünï' }), 'utf8'));
    assert.equal(refused, null);
    assert.equal(seen.url, 'http://café.example/ünï');
  });

  const refusals: Array<{ name: string; line: string; reason: LineRefusal }> = [
    { name: 'an empty line', line: '', reason: 'empty line' },
    { name: 'a line of spaces and tabs', line: '  \t  ', reason: 'empty line' },
    { name: 'a line cut short', line: e2g({}).split('\t').slice(0, 12).join('\t'), reason: 'too few fields' },
    {
      name: 'a Squid line',
      line: '1764672000.123    245 10.20.1.15 TCP_MISS/200 5120 GET http://www.example.org/ - HIER_DIRECT/- text/html',
      reason: 'too few fields',
    },
    { name: 'a local date and time (formats 1, 2 and 4 write those; 8 does not)', line: e2g({ time: '2025.12.02 10:00:00' }), reason: 'bad time' },
    { name: 'a status that is not a number', line: e2g({ status: 'OK' }), reason: 'bad status' },
    { name: 'a size that is not a number', line: e2g({ size: 'big' }), reason: 'bad size' },
    { name: 'a "-" for the URL', line: e2g({ url: '-' }), reason: 'no URL' },
  ];
  for (const { name, line, reason } of refusals) {
    it(`refuses ${name} as "${reason}"`, () => {
      const { refused, seen } = parse('e2guardian', line);
      assert.equal(refused, reason);
      assert.deepEqual(seen, nothing);
    });
  }
});

describe("reading Haven's decision log", () => {
  const block = '2026-11-23T10:00:00.000Z\t10.4.1.2\t-\tpupils\tblock\tgames\tcategory\tgames.example\tv1';
  const cases: Array<{ name: string; line: string; expect: Partial<Seen> }> = [
    {
      name: 'reads a block: the host is its URL',
      line: block,
      expect: {
        time: Date.parse('2026-11-23T10:00:00.000Z'),
        client: '10.4.1.2',
        user: undefined,
        group: 'pupils',
        blocked: true,
        category: 'games',
        reason: 'category',
        url: 'games.example',
        method: '',
        status: 0,
        bytes: 0,
      },
    },
    {
      name: 'takes user names as logged: the helper wrote them decoded already',
      line: block.replace('\t-\tpupils', '\tJo%41@School\tpupils'),
      expect: { user: 'jo%41@school' },
    },
    { name: 'reads a "-" category as none', line: block.replace('\tgames\tcategory', '\t-\tdeny-list'), expect: { category: '', reason: 'deny-list' } },
    { name: 'reads an action other than block as not blocked', line: block.replace('\tblock\t', '\tallow\t'), expect: { blocked: false } },
    { name: 'reads a time with an offset', line: block.replace('10:00:00.000Z', '11:00:00+01:00'), expect: { time: Date.parse('2026-11-23T10:00:00Z') } },
    { name: 'reads a time without milliseconds', line: block.replace('10:00:00.000Z', '10:00:07Z'), expect: { time: Date.parse('2026-11-23T10:00:07Z') } },
    { name: 'ignores CRLF and extra trailing fields', line: `${block}\tlater-field\r`, expect: { url: 'games.example' } },
  ];
  for (const { name, line, expect } of cases) {
    it(name, () => {
      const { refused, seen } = parse('haven', line);
      assert.equal(refused, null);
      for (const [key, value] of Object.entries(expect)) assert.deepEqual(seen[key as keyof Seen], value, key);
    });
  }

  const refusals: Array<{ name: string; line: string; reason: LineRefusal }> = [
    { name: 'an empty line', line: '', reason: 'empty line' },
    { name: 'a line without the snapshot', line: block.split('\t').slice(0, 8).join('\t'), reason: 'too few fields' },
    { name: 'a day that does not exist', line: block.replace('2026-11-23', '2026-02-30'), reason: 'bad time' },
    { name: 'a time that is not ISO 8601', line: block.replace('2026-11-23T10:00:00.000Z', '1764672000.123'), reason: 'bad time' },
    { name: 'a time with trailing junk', line: block.replace('.000Z', '.000Zulu'), reason: 'bad time' },
    { name: 'a "-" host', line: block.replace('games.example', '-'), reason: 'no URL' },
  ];
  for (const { name, line, reason } of refusals) {
    it(`refuses ${name} as "${reason}"`, () => {
      const { refused, seen } = parse('haven', line);
      assert.equal(refused, reason);
      assert.deepEqual(seen, nothing);
    });
  }

  describe('what the filter helper writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'haven-parse-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const model: FilterModel = {
      version: 'v7',
      timeZone: 'Europe/London',
      categories: [{ code: 'games', name: 'Games', illegal: false }],
      lists: [{ id: 'games', kind: 'category', category: 'games', domains: ['games.example'], urls: [] }],
      policies: [{ group: 'pupils', name: 'Pupils', blockedCategories: ['games'], allowListOnly: false, safeSearch: false }],
      exceptions: [],
      networks: [{ cidr: '10.4.0.0/16', groups: ['pupils'] }],
      users: [],
      defaultGroups: ['pupils'],
      blockPageUrl: 'https://haven.test/blocked',
    };

    it('is read back field for field', async () => {
      const snapshotPath = join(dir, 'snapshot.bin');
      writeSnapshotFile(snapshotPath, compileSnapshot(model, { blockTokenKey: 'k' }).bytes);
      const decisionLog = join(dir, 'decisions.log');
      const input = new PassThrough();
      const output = new PassThrough();
      output.resume();
      const at = Date.parse('2026-11-23T10:00:00.250Z');
      const done = runHelper({ mode: 'rewrite', snapshotPath, input, output, now: () => at, log: () => undefined, decisionLog });
      input.end('0 http://games.example/level?name=ada 10.4.1.2/- jo%40school GET\n');
      await done;
      const bytes = readFileSync(decisionLog);
      const line = new LogLine();
      assert.equal(parseLine('haven', bytes, 0, bytes.indexOf(10), line), null);
      assert.equal(line.time, at);
      assert.equal(fieldText(bytes, line.clientStart, line.clientEnd), '10.4.1.2');
      assert.equal(userText(bytes, line), 'jo@school');
      assert.equal(fieldText(bytes, line.groupStart, line.groupEnd), 'pupils');
      assert.equal(fieldText(bytes, line.categoryStart, line.categoryEnd), 'games');
      assert.equal(fieldText(bytes, line.urlStart, line.urlEnd), 'games.example', 'the host only, never the query');
      assert.equal(line.blocked, true);
    });
  });
});

describe('parsing any input', () => {
  it('refuses a line of binary garbage in every format, with one of the known reasons', () => {
    const line = garbage(7, 300);
    for (const format of logFormats) {
      const { refused } = parse(format, line);
      assert.notEqual(refused, null, format);
      assert.ok(allRefusals.includes(refused as LineRefusal), `${format}: ${refused}`);
    }
  });

  it('never throws, whatever the bytes or the range', () => {
    const out = new LogLine();
    for (let seed = 1; seed <= 2000; seed += 1) {
      const bytes = garbage(seed, seed % 257);
      // Sprinkle in separators so the parsers get past their first field now and then.
      for (let i = 0; i < bytes.length; i += 7) bytes[i] = seed % 2 === 0 ? 32 : 9;
      for (const format of logFormats) {
        const refused = parseLine(format, bytes, 0, bytes.length, out);
        assert.ok(refused === null || allRefusals.includes(refused), `${format} ${seed}: ${refused}`);
      }
    }
    const bytes = Buffer.from('1764672000.123 1 a b c d e f g h');
    for (const [start, end] of [
      [-5, 3],
      [3, 1],
      [0, 10_000],
      [Number.NaN, Number.NaN],
    ] as const) {
      assert.doesNotThrow(() => parseLine('squid', bytes, start, end, out));
    }
  });

  it('refuses a format it does not know', () => {
    assert.equal(parseLine('w3c' as LogFormat, Buffer.from('x y z'), 0, 5, new LogLine()), 'unknown format');
  });

  it('reads from a plain Uint8Array as well as a Buffer', () => {
    const text = '1764672000.123    245 10.20.1.15 TCP_MISS/200 5120 GET http://x.example/é - HIER_DIRECT/- text/html';
    const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
    const line = new LogLine();
    assert.equal(parseLine('squid', bytes, 0, bytes.length, line), null);
    assert.equal(fieldText(bytes, line.urlStart, line.urlEnd), 'http://x.example/é');
    assert.equal(fieldText(bytes, 4, 4), '');
  });

  it('clears what the previous line left in a reused LogLine', () => {
    const line = new LogLine();
    const denied = Buffer.from(e2g({ status: '403', what: '*DENIED* x', category: 'Games' }));
    assert.equal(parseLine('e2guardian', denied, 0, denied.length, line), null);
    assert.equal(line.blocked, true);
    const allowed = Buffer.from(e2g({ user: '-' }));
    assert.equal(parseLine('e2guardian', allowed, 0, allowed.length, line), null);
    assert.equal(line.blocked, false);
    assert.equal(line.categoryEnd - line.categoryStart, 0);
    assert.equal(userText(allowed, line), undefined);
  });
});

/** Feeds chunks to a splitter and records each line it hands over. */
function split(chunks: Array<string | Buffer>, options: { flush?: boolean; startLine?: number; startOffset?: number } = {}) {
  const lines: Array<{ text: string; length: number; lineNumber: number; offsetAfter: number }> = [];
  const splitter = new LineSplitter(
    (bytes, start, end, lineNumber, offsetAfter) => lines.push({ text: bytes.toString('latin1', start, end), length: end - start, lineNumber, offsetAfter }),
    options.startLine,
    options.startOffset,
  );
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  if (options.flush ?? true) splitter.flush();
  return { lines, splitter };
}

describe('splitting a stream into lines', () => {
  it('joins lines split across chunks and counts lines and offsets', () => {
    const { lines, splitter } = split(['abc\nde', 'f\ngh', 'i\n']);
    assert.deepEqual(
      lines.map(({ text, lineNumber, offsetAfter }) => [text, lineNumber, offsetAfter]),
      [
        ['abc', 1, 4],
        ['def', 2, 8],
        ['ghi', 3, 12],
      ],
    );
    assert.equal(splitter.offset, 12);
    assert.equal(splitter.lineNumber, 3);
  });

  it('drops the "\\r" of CRLF, also when a chunk ends between "\\r" and "\\n"', () => {
    const { lines } = split(['one\r', '\ntwo\r\nthr', 'ee\r', '\n']);
    assert.deepEqual(
      lines.map(({ text, offsetAfter }) => [text, offsetAfter]),
      [
        ['one', 5],
        ['two', 10],
        ['three', 17],
      ],
    );
  });

  it('keeps a last line without "\\n" until flush, and reports the offset of complete lines only', () => {
    const { lines, splitter } = split(['first\nsec', 'ond'], { flush: false });
    assert.deepEqual(
      lines.map(({ text }) => text),
      ['first'],
    );
    assert.equal(splitter.offset, 6, 'a caller resuming from here reads "second" again, whole');
    assert.equal(splitter.buffered, 6);
    splitter.flush();
    assert.deepEqual(lines.at(-1), { text: 'second', length: 6, lineNumber: 2, offsetAfter: 12 });
    assert.equal(splitter.offset, 12);
    splitter.flush();
    assert.equal(lines.length, 2, 'a second flush hands over nothing');
  });

  it('keeps empty lines, so line numbers match the file', () => {
    const { lines } = split(['a\n\n\r\nb\n']);
    assert.deepEqual(
      lines.map(({ text, lineNumber }) => [text, lineNumber]),
      [
        ['a', 1],
        ['', 2],
        ['', 3],
        ['b', 4],
      ],
    );
  });

  it('goes on from a line number and offset recorded earlier', () => {
    const { lines } = split(['x\ny\n'], { startLine: 41, startOffset: 1000 });
    assert.deepEqual(
      lines.map(({ text, lineNumber, offsetAfter }) => [text, lineNumber, offsetAfter]),
      [
        ['x', 42, 1002],
        ['y', 43, 1004],
      ],
    );
  });

  it('copies the partial line it keeps, so a reader may reuse its buffer', () => {
    const seen: string[] = [];
    const splitter = new LineSplitter((bytes, start, end) => seen.push(bytes.toString('latin1', start, end)));
    const buffer = Buffer.from('abc\nde');
    splitter.push(buffer);
    buffer.write('XXXXXX', 'latin1');
    splitter.push(Buffer.from('f\n'));
    assert.deepEqual(seen, ['abc', 'def']);
  });

  it('hands over the same lines however the input is cut', () => {
    const text = 'alpha\r\nbeta\n\ngamma delta\r\nepsilon';
    const whole = split([text]).lines;
    const byteAtATime = split([...text]).lines;
    const inThrees = split(text.match(/[\s\S]{1,3}/g) ?? []).lines;
    assert.deepEqual(byteAtATime, whole);
    assert.deepEqual(inThrees, whole);
    assert.deepEqual(
      whole.map(({ text }) => text),
      ['alpha', 'beta', '', 'gamma delta', 'epsilon'],
    );
  });

  for (const [name, chunking] of [
    ['inside one chunk', (line: string) => [line]],
    ['across chunks', (line: string) => line.match(/[\s\S]{1,10000}/g) ?? []],
  ] as const) {
    it(`cuts a line longer than ${maxLineBytes} bytes to its start (${name}), and goes on with the next`, () => {
      const long = `${'x'.repeat(maxLineBytes - 1)}yzzzz${'z'.repeat(40_000)}`;
      const { lines } = split(chunking(`${long}\r\nnext\n`));
      assert.equal(lines.length, 2);
      assert.equal(lines[0]!.length, maxLineBytes);
      assert.ok(lines[0]!.text.endsWith('xy'));
      assert.equal(lines[0]!.offsetAfter, long.length + 2);
      assert.deepEqual(lines[1], { text: 'next', length: 4, lineNumber: 2, offsetAfter: long.length + 7 });
    });
  }

  it('keeps a line of exactly the limit whole, without its "\\r"', () => {
    const exact = 'e'.repeat(maxLineBytes);
    const { lines } = split([exact.slice(0, 100), `${exact.slice(100)}\r`, '\n']);
    assert.equal(lines[0]!.length, maxLineBytes);
    assert.equal(lines[0]!.offsetAfter, maxLineBytes + 2);
  });

  it('does not hold an endless line in memory', () => {
    const splitter = new LineSplitter(() => assert.fail('no line has ended'));
    const megabyte = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 8; i += 1) splitter.push(megabyte);
    assert.equal(splitter.buffered, 8 << 20, 'counted');
    assert.equal(splitter.offset, 0);
    let handed = -1;
    const flushing = new LineSplitter((_bytes, start, end, _line, offsetAfter) => {
      handed = end - start;
      assert.equal(offsetAfter, 8 << 20);
    });
    for (let i = 0; i < 8; i += 1) flushing.push(megabyte);
    flushing.flush();
    assert.equal(handed, maxLineBytes);
  });

  it('counts offsets in the uncompressed stream of a gzip file, and the lines parse', async () => {
    const log = [
      '1764672000.123    245 10.20.1.15 TCP_MISS/200 5120 GET http://www.example.org/page.html - HIER_DIRECT/93.184.216.34 text/html',
      '1764672001.500      0 10.20.1.16 TCP_DENIED/403 3985 GET http://games.example/ pupil1 HIER_NONE/- text/html',
      'not a log line',
    ].join('\r\n');
    const plain = Buffer.from(`${log}\r\n`);
    const results: Array<[string | null, number, number]> = [];
    const line = new LogLine();
    const splitter = new LineSplitter((bytes, start, end, lineNumber, offsetAfter) =>
      results.push([parseLine('squid', bytes, start, end, line), lineNumber, offsetAfter]),
    );
    const gunzip = Readable.from([gzipSync(plain)]).pipe(createGunzip({ chunkSize: 64 }));
    for await (const chunk of gunzip) splitter.push(chunk as Buffer);
    splitter.flush();
    const firstLength = log.indexOf('\r\n') + 2;
    assert.deepEqual(results, [
      [null, 1, firstLength],
      [null, 2, log.indexOf('\r\n', firstLength) + 2],
      ['too few fields', 3, plain.length],
    ]);
  });
});
