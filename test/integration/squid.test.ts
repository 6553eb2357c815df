import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileSnapshot, writeSnapshotFile } from '../../src/features/filtering/compile.js';
import type { FilterModel } from '../../src/features/filtering/model.js';

/**
 * A real Squid on 127.0.0.1 asking Haven's helper (external_acl_type, acl mode) about every
 * request, in front of a small origin server on 127.0.0.1. Pupils are told apart by client address
 * (127.0.0.2 is the pupil network), staff by proxy user name (127.0.0.3 must sign in).
 * Skipped when Squid is not installed (.ci/run installs Debian's squid).
 */
const squidBinary = ['/usr/sbin/squid', '/usr/bin/squid'].find((path) => existsSync(path));

function model(exceptionUntil?: number): FilterModel {
  return {
    version: exceptionUntil ? `with-exception-${exceptionUntil}` : 'base',
    timeZone: 'Europe/London',
    categories: [
      { code: 'csam', name: 'Illegal', illegal: true },
      { code: 'games', name: 'Games', illegal: false },
    ],
    lists: [
      { id: 'iwf', kind: 'category', category: 'csam', domains: ['illegal.test'], urls: [] },
      { id: 'games', kind: 'category', category: 'games', domains: ['games.test'], urls: [] },
    ],
    policies: [
      { group: 'staff', name: 'Staff', blockedCategories: [], allowListOnly: false, safeSearch: false },
      { group: 'pupils', name: 'Pupils', blockedCategories: ['games'], allowListOnly: false, safeSearch: true },
    ],
    exceptions: exceptionUntil ? [{ id: 'FR-0001', group: 'pupils', domain: 'games.test', startsAt: Date.now() - 60_000, endsAt: exceptionUntil }] : [],
    networks: [{ cidr: '127.0.0.2/32', groups: ['pupils'] }],
    users: [{ username: 'ms.staff', groups: ['staff'] }],
    defaultGroups: ['pupils'],
    blockPageUrl: 'http://127.0.0.1/blocked/test',
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** A GET through the proxy from a given local address, optionally with proxy credentials. */
function viaProxy(proxyPort: number, url: string, from: string, user?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveResponse, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port: proxyPort,
      path: url,
      method: 'GET',
      localAddress: from,
      headers: { host: new URL(url).host, ...(user ? { 'proxy-authorization': `Basic ${Buffer.from(`${user}:any`).toString('base64')}` } : {}) },
      agent: false,
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolveResponse({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error(`timed out: ${url}`)));
    request.end();
  });
}

describe('a real Squid with Haven’s filter helper', { skip: squidBinary ? false : 'Squid is not installed (apt-get install squid)' }, () => {
  let dir: string;
  let squid: ChildProcess | undefined;
  let origin: http.Server;
  let proxyPort: number;
  let snapshotPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-squid-'));
    // Squid's workers and helpers run as the unprivileged proxy user: they must read and write here.
    chmodSync(dir, 0o777);
    snapshotPath = join(dir, 'snapshot.bin');
    writeSnapshotFile(snapshotPath, compileSnapshot(model(), { blockTokenKey: 'k' }).bytes);
    chmodSync(snapshotPath, 0o644);

    origin = http.createServer((request, response) => response.end(`origin says hello to ${request.headers.host ?? ''}`));
    await new Promise<void>((ready) => origin.listen(0, '127.0.0.1', ready));
    const originPort = (origin.address() as AddressInfo).port;
    proxyPort = await freePort();
    writeFileSync(join(dir, 'hosts'), '127.0.0.1 games.test fine.test illegal.test\n');
    const root = resolve('.');
    const helper = `${process.execPath} --import ${join(root, 'node_modules/tsx/dist/loader.mjs')} ${join(root, 'src/features/filtering/helper-main.ts')}`;
    writeFileSync(
      join(dir, 'squid.conf'),
      [
        `http_port 127.0.0.1:${proxyPort}`,
        `pid_filename ${join(dir, 'squid.pid')}`,
        `cache_log ${join(dir, 'cache.log')}`,
        `access_log ${join(dir, 'access.log')}`,
        `coredump_dir ${dir}`,
        `hosts_file ${join(dir, 'hosts')}`,
        'cache deny all',
        'cache_mem 8 MB',
        'visible_hostname haven-squid-test',
        'shutdown_lifetime 1 seconds',
        'auth_param basic program /usr/lib/squid/basic_fake_auth',
        'auth_param basic realm haven-test',
        'acl staff_laptops src 127.0.0.3',
        'acl signed_in proxy_auth REQUIRED',
        `external_acl_type haven ttl=0 negative_ttl=0 children-max=2 children-startup=1 concurrency=10 %>a %un %DST %URI ${helper} --mode acl --snapshot ${snapshotPath} --reload-ms 200`,
        'acl haven_allows external haven',
        'http_access deny staff_laptops !signed_in',
        'http_access allow haven_allows',
        'http_access deny all',
      ].join('\n') + '\n',
    );
    chmodSync(join(dir, 'squid.conf'), 0o644);
    squid = spawn(squidBinary!, ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    squid.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Wait until Squid answers.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await viaProxy(proxyPort, `http://fine.test:${originPort}/`, '127.0.0.1');
        break;
      } catch (error) {
        if (attempt > 150)
          throw new Error(
            `Squid did not start: ${String(error)}\n${stderr}\n${existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8') : ''}`,
          );
        await new Promise((wait) => setTimeout(wait, 100));
      }
    }
    (globalThis as { havenOriginPort?: number }).havenOriginPort = originPort;
  });

  after(async () => {
    if (squid && squid.exitCode === null) {
      squid.kill('SIGTERM');
      await new Promise((done) => {
        const timer = setTimeout(() => {
          squid?.kill('SIGKILL');
          done(undefined);
        }, 5000);
        squid?.on('exit', () => {
          clearTimeout(timer);
          done(undefined);
        });
      });
    }
    await new Promise((done) => origin.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (host: string) => `http://${host}:${(globalThis as { havenOriginPort?: number }).havenOriginPort}/page`;

  it('allows and blocks by group: pupils by client address, staff by proxy user name', async () => {
    const pupilGames = await viaProxy(proxyPort, url('games.test'), '127.0.0.2');
    assert.equal(pupilGames.status, 403, 'games are blocked on the pupil network');
    const pupilFine = await viaProxy(proxyPort, url('fine.test'), '127.0.0.2');
    assert.equal(pupilFine.status, 200);
    assert.match(pupilFine.body, /origin says hello to fine.test/);
    assert.equal((await viaProxy(proxyPort, url('games.test'), '127.0.0.3')).status, 407, 'the staff laptop must sign in');
    const staffGames = await viaProxy(proxyPort, url('games.test'), '127.0.0.3', 'ms.staff');
    assert.equal(staffGames.status, 200, 'staff may reach games');
    assert.equal((await viaProxy(proxyPort, url('illegal.test'), '127.0.0.3', 'ms.staff')).status, 403, 'illegal content is blocked for staff too');
    assert.equal((await viaProxy(proxyPort, url('games.test'), '127.0.0.3', 'somebody.else')).status, 403, 'an unknown user gets the default (pupil) policy');
  });

  it('applies an approved exception within the reload time, and stops it when it expires', async () => {
    const until = Date.now() + 4000;
    writeSnapshotFile(snapshotPath, compileSnapshot(model(until), { blockTokenKey: 'k' }).bytes);
    chmodSync(snapshotPath, 0o644);
    let status = 0;
    const started = Date.now();
    while (Date.now() - started < 3000) {
      status = (await viaProxy(proxyPort, url('games.test'), '127.0.0.2')).status;
      if (status === 200) break;
      await new Promise((wait) => setTimeout(wait, 100));
    }
    assert.equal(status, 200, 'the exception took effect');
    assert.ok(Date.now() - started < 3000);
    await new Promise((wait) => setTimeout(wait, Math.max(0, until - Date.now()) + 300));
    assert.equal((await viaProxy(proxyPort, url('games.test'), '127.0.0.2')).status, 403, 'and it ended on time');
  });

  it('keeps working after a request the helper cannot read', async () => {
    const odd = await viaProxy(proxyPort, `http://[::1]:${(globalThis as { havenOriginPort?: number }).havenOriginPort}/`, '127.0.0.2').catch(() => ({
      status: -1,
      body: '',
    }));
    assert.notEqual(odd.status, 200, 'an unreadable request is not let through');
    assert.equal((await viaProxy(proxyPort, url('fine.test'), '127.0.0.2')).status, 200, 'Squid and the helper still answer');
    assert.equal((await viaProxy(proxyPort, url('games.test'), '127.0.0.2')).status, 403);
  });
});
