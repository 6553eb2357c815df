import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { detectFormat, diffEntries, parseList, parseUt1Directory } from './list-import.js';

const dir = mkdtempSync(join(tmpdir(), 'haven-lists-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('reading filter lists', () => {
  it('reads a plain domain list: comments, blanks, duplicates, wildcards, case, IDN and trailing dots', () => {
    const { byCategory, report } = parseList(
      '\uFEFF# a list\r\nexample.com\r\n*.Games.Example.\r\n.dup.example\r\ndup.example\r\n\r\nbücher.example\r\nnot a host\r\nexample.com/path\r\n',
      'domains',
      { defaultCategory: 'games' },
    );
    assert.deepEqual(byCategory.get('games')!.domains, ['dup.example', 'example.com', 'games.example', 'xn--bcher-kva.example']);
    assert.deepEqual(
      { lines: report.lines, accepted: report.accepted, duplicates: report.duplicates, comments: report.comments, blank: report.blank, bad: report.bad },
      { lines: 9, accepted: 4, duplicates: 1, comments: 1, blank: 1, bad: 2 },
    );
    assert.deepEqual(
      report.badSamples.map((sample) => [sample.line, sample.reason]),
      [
        [8, 'more than one entry on the line'],
        [9, 'looks like a web address: put it in a URL list'],
      ],
    );
  });

  it('reads hosts files, skipping localhost lines', () => {
    const { byCategory, report } = parseList('127.0.0.1 localhost\n0.0.0.0 ads.example tracker.example # comment\n::1 ip6-localhost\n0.0.0.0\n', 'hosts', {
      defaultCategory: 'malware',
    });
    assert.deepEqual(byCategory.get('malware')!.domains, ['ads.example', 'tracker.example']);
    assert.equal(report.bad, 1);
  });

  it('reads adblock ||domain^ rules and explains what it cannot use', () => {
    const { byCategory, report } = parseList(
      '! title\n[Adblock Plus 2.0]\n||casino.example^\n||bet.example^$third-party\n@@||ok.example^\nexample.com##.ad\n/banner/\n',
      'adblock',
      {
        defaultCategory: 'gambling',
      },
    );
    assert.deepEqual(byCategory.get('gambling')!.domains, ['bet.example', 'casino.example']);
    assert.deepEqual(
      report.badSamples.map((sample) => sample.reason),
      [
        'exception rules (@@) are not supported: use the group allow list',
        'cosmetic (element hiding) rules do not apply to a web filter',
        'only ||domain^ rules are supported',
      ],
    );
  });

  it('reads CSV with categories per row, URLs and quoted cells', () => {
    const { byCategory, report } = parseList(
      'domain,category\nchat.example,Chat\n"spin.example",gambling\nhttps://videos.example/games/,games\nnocategory.example\n',
      'csv',
    );
    assert.deepEqual(byCategory.get('chat')!.domains, ['chat.example']);
    assert.deepEqual(byCategory.get('gambling')!.domains, ['spin.example']);
    assert.deepEqual(byCategory.get('games')!.urls, ['videos.example/games']);
    assert.equal(report.bad, 1);
    assert.match(report.badSamples[0]!.reason, /no category/);
  });

  it('never throws on garbage, and samples at most twenty bad lines', () => {
    const garbage = Array.from({ length: 200 }, (_, i) => `${String.fromCharCode(14 + (i % 50))}\u0000\uffff${'x'.repeat(i * 30)} ::: ///`).join('\n');
    for (const format of ['domains', 'hosts', 'adblock', 'csv', 'urls'] as const) {
      const { report } = parseList(garbage, format, { defaultCategory: 'games' });
      assert.equal(report.lines, 200);
      assert.ok(report.badSamples.length <= 20);
      assert.ok(report.badSamples.every((sample) => sample.text.length <= 200));
    }
  });

  it('guesses the format', () => {
    assert.equal(detectFormat('# x\n||a.example^\n||b.example^\n'), 'adblock');
    assert.equal(detectFormat('0.0.0.0 a.example\n0.0.0.0 b.example\n'), 'hosts');
    assert.equal(detectFormat('a.example,games\nb.example,games\n'), 'csv');
    assert.equal(detectFormat('a.example/x\nb.example/y\n'), 'urls');
    assert.equal(detectFormat('a.example\nb.example\n'), 'domains');
  });

  it('reads a UT1-style directory (plain and gzip), mapping folders to Haven categories and skipping unknown ones', () => {
    const root = join(dir, 'ut1');
    const folders: Record<string, Record<string, string | Buffer>> = {
      adult: { domains: 'porn.example\nbad line here\n', urls: 'site.example/adult/page\n' },
      gambling: { 'domains.gz': gzipSync('casino.example\n') },
      unknown_thing: { domains: 'x.example\n' },
      games: { domains: 'game.example\n', expressions: '(^|\\.)game[0-9]+\\.example$\n([unclosed\n' },
    };
    for (const [folder, files] of Object.entries(folders)) {
      mkdirSync(join(root, folder), { recursive: true });
      for (const [name, body] of Object.entries(files)) writeFileSync(join(root, folder, name), body);
    }
    const known = new Set(['pornography', 'gambling', 'games', 'violence']);
    const { byCategory, reports, skipped } = parseUt1Directory(root, known);
    assert.deepEqual(byCategory.get('pornography'), { domains: ['porn.example'], urls: ['site.example/adult/page'], expressions: [] });
    assert.deepEqual(byCategory.get('gambling')!.domains, ['casino.example']);
    assert.deepEqual(byCategory.get('games')!.expressions, ['(^|\\.)game[0-9]+\\.example$']);
    assert.deepEqual(skipped, ['unknown_thing']);
    assert.equal(reports.get('adult → pornography')!.bad, 1);
    assert.equal(reports.get('games → games')!.bad, 1, 'an invalid expression is a bad line');
    assert.throws(() => parseUt1Directory(join(dir, 'missing'), known), /is not a directory/);
  });

  it('diffs two versions', () => {
    const diff = diffEntries({ domains: ['a.example', 'b.example'], urls: [] }, { domains: ['b.example', 'c.example'], urls: ['c.example/x'] });
    assert.deepEqual(diff, { addedDomains: 1, removedDomains: 1, addedUrls: 1, removedUrls: 0, sampleAdded: ['c.example'], sampleRemoved: ['a.example'] });
  });
});
