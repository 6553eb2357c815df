import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { compileSnapshot, writeSnapshotFile } from './compile.js';
import { runHelper, type HelperMode } from './helper.js';
import type { FilterModel } from './model.js';

const now = Date.parse('2026-11-23T10:00:00Z');

function model(extraBlocked: string[] = [], version = 'v1'): FilterModel {
  return {
    version,
    timeZone: 'Europe/London',
    categories: [
      { code: 'csam', name: 'Illegal', illegal: true },
      { code: 'games', name: 'Games', illegal: false },
    ],
    lists: [
      { id: 'iwf', kind: 'category', category: 'csam', domains: ['illegal.example'], urls: [] },
      { id: 'games', kind: 'category', category: 'games', domains: ['games.example', ...extraBlocked], urls: [] },
    ],
    policies: [
      { group: 'staff', name: 'Staff', blockedCategories: [], allowListOnly: false, safeSearch: false },
      { group: 'pupils', name: 'Pupils', blockedCategories: ['games'], allowListOnly: false, safeSearch: true },
    ],
    exceptions: [],
    networks: [{ cidr: '10.4.0.0/16', groups: ['pupils'] }],
    users: [{ username: 'teacher', groups: ['staff'] }],
    defaultGroups: ['pupils'],
    blockPageUrl: 'https://haven.test/blocked',
  };
}

const dir = mkdtempSync(join(tmpdir(), 'haven-helper-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function snapshotFile(name: string, m: FilterModel = model()): string {
  const path = join(dir, name);
  writeSnapshotFile(path, compileSnapshot(m, { blockTokenKey: 'k' }).bytes);
  return path;
}

/** Runs a helper over the given chunks and returns its output lines. */
async function run(mode: HelperMode, chunks: Array<string | Buffer>, snapshotPath: string, format?: string): Promise<string[]> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const done = runHelper({ mode, snapshotPath, input, output, format, now: () => now, log: () => undefined });
  for (const chunk of chunks) input.write(chunk);
  input.end();
  await done;
  return text.split('\n').slice(0, -1);
}

describe('the Squid helpers', () => {
  const path = snapshotFile('one.bin');

  it('answers external_acl_type lines, with and without channel IDs', async () => {
    const lines = await run(
      'acl',
      [
        '10.4.1.2 - games.example http://games.example/play\n',
        '7 10.4.1.2 - games.example http://games.example/play\n',
        '8 10.9.9.9 teacher games.example games.example:443\n',
        '9 10.4.1.2 - illegal.example http://illegal.example/\n',
        '10 10.4.1.2 - fine.example http://fine.example/\n',
      ],
      path,
    );
    assert.deepEqual(lines, ['ERR message=games log=category', '7 ERR message=games log=category', '8 OK', '9 ERR message=csam log=illegal', '10 OK']);
  });

  it('answers url_rewrite_program lines: block page, SafeSearch rewrite, or no change', async () => {
    const lines = await run(
      'rewrite',
      [
        '0 http://games.example/ 10.4.1.2/- - GET myip=10.0.0.1 myport=3128\n',
        '1 http://fine.example/ 10.4.1.2/- - GET\n',
        '2 http://www.google.com/search?q=owls 10.4.1.2/- - GET\n',
        '3 http://games.example/ 10.9.9.9/- teacher GET\n',
      ],
      path,
    );
    assert.match(lines[0]!, /^0 OK status=302 url=https:\/\/haven\.test\/blocked\?t=[\w-]+\.[\w-]+$/);
    assert.equal(lines[1], '1 ERR');
    assert.equal(lines[2], '2 OK rewrite-url=http://www.google.com/search?q=owls&safe=active');
    assert.equal(lines[3], '3 ERR', 'the teacher is on the staff policy');
  });

  it('logs each blocked request (host only, never the full address) when asked to', async () => {
    const logPath = join(dir, 'decisions.log');
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const done = runHelper({ mode: 'rewrite', snapshotPath: path, input, output, now: () => now, log: () => undefined, decisionLog: logPath });
    input.write('0 http://games.example/secret?name=ada 10.4.1.2/- - GET\n');
    input.write('1 http://fine.example/ 10.4.1.2/- - GET\n');
    input.end();
    await done;
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, 'only the block is logged');
    assert.deepEqual(lines[0]!.split('\t'), ['2026-11-23T10:00:00.000Z', '10.4.1.2', '-', 'pupils', 'block', 'games', 'category', 'games.example', 'v1']);
  });

  it('survives malformed lines, lines split across reads and CRLF, answering every one in order', async () => {
    const lines = await run(
      'acl',
      [
        '1 10.4.1.2 - games.exam',
        'ple http://games.example/\r\n',
        '2 onlyonefield\n',
        '3 10.4.1.2 - bad host http://exa mple.com/\n',
        Buffer.from([0x34, 0x20, 0xff, 0xfe, 0x20, 0x2d, 0x20, 0x78, 0x20, 0x0a]),
        '\n',
        '5 10.4.1.2 - fine.example http://fine.example/',
      ],
      path,
    );
    assert.equal(lines.length, 6);
    assert.equal(lines[0], '1 ERR message=games log=category');
    assert.match(lines[1]!, /^2 BH message=/);
    assert.match(lines[2]!, /^3 (BH|ERR|OK)/);
    assert.match(lines[3]!, /^4 (BH|ERR|OK)/);
    assert.match(lines[4]!, /^BH message=/, 'an empty line still gets an answer');
    assert.equal(lines[5], '5 OK', 'a last line without a newline is answered at the end');
  });

  it('loads a new snapshot while running, and keeps the old one when the new file is broken', async () => {
    const livePath = snapshotFile('live.bin');
    const input = new PassThrough();
    const output = new PassThrough();
    const answers: string[] = [];
    output.on('data', (chunk: Buffer) => answers.push(...chunk.toString().trim().split('\n')));
    const done = runHelper({ mode: 'acl', snapshotPath: livePath, input, output, reloadMs: 100, now: () => now, log: () => undefined });
    const ask = async (id: number) => {
      const before = answers.length;
      input.write(`${id} 10.4.1.2 - new.example http://new.example/\n`);
      for (let i = 0; i < 200 && answers.length === before; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
      return answers.at(-1)!.replace(/^\d+ /, '');
    };
    /** Asks until the answer is `expected` (the reload timer runs every 100 ms), for up to 5 s. */
    const eventually = async (expected: string) => {
      let answer = '';
      for (let attempt = 0; attempt < 100; attempt += 1) {
        answer = await ask(attempt + 10);
        if (answer === expected) return answer;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return answer;
    };
    assert.equal(await ask(1), 'OK');
    writeSnapshotFile(livePath, compileSnapshot(model(['new.example'], 'v2'), { blockTokenKey: 'k' }).bytes);
    assert.equal(await eventually('ERR message=games log=category'), 'ERR message=games log=category', 'the new snapshot is in use without a restart');
    writeFileSync(livePath, 'garbage');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await ask(3), 'ERR message=games log=category', 'a broken file leaves the last good snapshot in use');
    input.end();
    await done;
  });
});
