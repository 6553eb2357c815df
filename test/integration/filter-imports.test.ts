import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool, buildUser } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`filter list imports (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;
    let tech: TestAgent;
    let listServer: http.Server;
    let served = 'first.example\n';

    before(async () => {
      haven = await buildTestHaven(dialect);
      schoolId = (await buildSchool(haven.services)).schoolId;
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      tech = new TestAgent(haven.app);
      await tech.signIn(technician.email, technician.password);
      listServer = http.createServer((_request, response) => response.end(served));
      await new Promise<void>((ready) => listServer.listen(0, '127.0.0.1', ready));
    });
    after(async () => {
      await new Promise((done) => listServer.close(done));
      await haven.close();
    });

    const ks2 = async (url: string) => {
      const engine = await haven.services.filtering.engineFor(schoolId);
      return engine.decideFor([engine.current.policyByGroup.get('key_stage:KS2')!], url, haven.clock().getTime());
    };

    it('imports an uploaded CSV into a list per category, reports bad lines, and a second import is a new version with its diff', async () => {
      const csv = 'domain,category\nspin.example,gambling\nchatter.example,chat\nnot a domain,chat\nmystery.example,knitting\n';
      const response = await tech.postMultipart(
        '/filtering/lists',
        { name: 'Provider', format: 'csv', sourceType: 'upload', category: 'games' },
        {
          file: { name: 'provider.csv', type: 'text/csv', data: Buffer.from(csv) },
        },
      );
      assert.equal(response.statusCode, 200, response.body.slice(0, 500));
      assert.match(response.body, /Provider: gambling/);
      assert.match(response.body, /data-qa="skipped">.*category knitting \(1 entries\)/);
      assert.equal((await ks2('http://spin.example/')).category, 'gambling');
      assert.equal((await ks2('http://www.chatter.example/')).action, 'block');

      const again = await tech.postMultipart(
        '/filtering/lists',
        { name: 'Provider', format: 'csv', sourceType: 'upload' },
        {
          file: { name: 'provider.csv', type: 'text/csv', data: Buffer.from('spin.example,gambling\nroulette.example,gambling\n') },
        },
      );
      assert.equal(again.statusCode, 200);
      const list = (await haven.services.filtering.lists(schoolId)).find((row) => row.name === 'Provider: gambling')!;
      assert.equal(list.current_version, 2);
      const page = await tech.get(`/filtering/lists/${list.id}`);
      assert.match(page.body, /data-qa="version-2"[\s\S]*?Changes: \+1 \/ −0 domains/);
      const chat = (await haven.services.filtering.lists(schoolId)).find((row) => row.name === 'Provider: chat')!;
      assert.match((await tech.get(`/filtering/lists/${chat.id}`)).body, /data-qa="bad-lines">[\s\S]*Line 4/);
      const binary = await tech.postMultipart(
        '/filtering/lists',
        { name: 'Bin', category: 'games', sourceType: 'upload' },
        {
          file: { name: 'x.bin', type: 'application/octet-stream', data: Buffer.from([0, 1, 2, 3]) },
        },
      );
      assert.equal(binary.statusCode, 400);
    });

    it('imports a UT1-style directory from the incoming folder, and refuses paths outside it', async () => {
      const root = join(haven.services.filtering.incomingDir, 'ut1');
      mkdirSync(join(root, 'adult'), { recursive: true });
      mkdirSync(join(root, 'warez'), { recursive: true });
      mkdirSync(join(root, 'unknown'), { recursive: true });
      writeFileSync(join(root, 'adult', 'domains'), 'adult-sample.example\n');
      writeFileSync(join(root, 'adult', 'urls'), 'pages.example/adult/1\n');
      writeFileSync(join(root, 'warez', 'domains'), 'films-free.example\n');
      writeFileSync(join(root, 'warez', 'expressions'), '(^|\\.)free-films-[0-9]+\\.example\n');
      writeFileSync(join(root, 'unknown', 'domains'), 'x.example\n');
      const response = await tech.post('/filtering/lists', { name: 'UT1', format: 'ut1', sourceType: 'path', path: 'ut1', category: 'games' });
      assert.equal(response.statusCode, 200, response.body.slice(0, 500));
      assert.match(response.body, /UT1: pornography/);
      assert.match(response.body, /UT1: piracy/);
      assert.match(response.body, /folder unknown/);
      assert.equal((await ks2('http://pages.example/adult/1/photo')).category, 'pornography');
      assert.equal((await ks2('http://free-films-2024.example/')).category, 'piracy', 'UT1 expressions are enforced (the slow path)');
      const escape = await tech.post('/filtering/lists', {
        name: 'Passwords',
        format: 'domains',
        sourceType: 'path',
        path: '../../../etc/hosts',
        category: 'games',
      });
      assert.equal(escape.statusCode, 400);
      assert.match(escape.body, /lists-incoming/);
    });

    it('imports from an address and imports again on its schedule through the jobs scheduler', async () => {
      const { port } = listServer.address() as AddressInfo;
      const response = await tech.post('/filtering/lists', {
        name: 'Remote games',
        format: 'domains',
        sourceType: 'url',
        url: `http://127.0.0.1:${port}/games.txt`,
        category: 'games',
        scheduleHours: '1',
      });
      assert.equal(response.statusCode, 200, response.body.slice(0, 500));
      assert.equal((await ks2('http://first.example/')).category, 'games');
      served = 'first.example\nsecond.example\n';
      assert.equal((await haven.services.jobs.runNow('filter-imports'))?.summary, '0 lists re-imported', 'not due yet');
      haven.clock.advance(61 * 60_000);
      assert.equal((await haven.services.jobs.runNow('filter-imports'))?.summary, '1 lists re-imported');
      assert.equal((await ks2('http://second.example/')).category, 'games');
      const log = await haven.services.filtering.changeLog(schoolId);
      assert.match(log[0]!.summary, /Remote games version 2: 2 domains, 0 web addresses \(\+1, −0\), 0 bad lines/);
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      tech = new TestAgent(haven.app);
      await tech.signIn(technician.email, technician.password);
      const bad = await tech.post('/filtering/lists', { name: 'X', format: 'domains', sourceType: 'url', url: 'file:///etc/passwd', category: 'games' });
      assert.equal(bad.statusCode, 400);
    });
  });
}
