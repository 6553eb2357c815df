import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createApp, routesWithoutAccess } from '../../src/app.js';
import { can, type Permission } from '../../src/platform/permissions.js';
import { requiresTwoFactor, roles, type Role } from '../../src/platform/roles.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool, buildUser } from '../support/factories.js';

describe('route access declarations', () => {
  let haven: TestHaven;
  before(async () => {
    haven = await buildTestHaven('sqlite');
  });
  after(() => haven.close());

  it('every registered route declares who may use it', () => {
    assert.ok(haven.app.registeredRoutes.length > 30, 'the routes were enumerated');
    assert.deepEqual(routesWithoutAccess(haven.app), []);
  });

  it('catches a route that declares nothing, and refuses requests to it', async () => {
    const app = await createApp({ services: haven.services });
    app.get('/forgot-to-declare', async () => ({ secret: 'should never be served' }));
    await app.ready();
    assert.deepEqual(routesWithoutAccess(app), ['GET /forgot-to-declare', 'HEAD /forgot-to-declare']);
    const response = await app.inject({ method: 'GET', url: '/forgot-to-declare' });
    assert.equal(response.statusCode, 500);
    assert.doesNotMatch(response.body, /should never be served/);
    await app.close();
  });
});

/** Every permission-guarded route, tried by every role: allowed roles get past the check, others get 403. */
for (const dialect of dialects()) {
  describe(`role isolation through the routes (${dialect})`, () => {
    let haven: TestHaven;
    const agents = new Map<Role, TestAgent>();
    before(async () => {
      haven = await buildTestHaven(dialect);
      const { schoolId } = await buildSchool(haven.services);
      for (const role of roles) {
        const user = await buildUser(haven.services, schoolId, [role], { twoFactor: requiresTwoFactor([role]) });
        const agent = new TestAgent(haven.app);
        const signedIn = await agent.signIn(user.email, user.password, user.totpSecret, haven.clock);
        assert.equal(signedIn.location, '/', `${role} signs in`);
        haven.clock.advance(30_000);
        agents.set(role, agent);
      }
    });
    after(() => haven.close());

    it('refuses each guarded route to the roles without its permission', async () => {
      const guarded = haven.app.registeredRoutes.filter((route) => {
        const access = route.config?.access;
        return access !== undefined && access !== 'public' && access !== 'signed-in' && access !== 'signing-in';
      });
      assert.ok(guarded.length > 20);
      let checks = 0;
      for (const route of guarded) {
        const permission = route.config!.access as Permission;
        const url = route.url.replace(/:[A-Za-z]+/g, () => randomUUID());
        for (const method of (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m === 'GET' || m === 'POST')) {
          for (const role of roles) {
            const agent = agents.get(role)!;
            const response = method === 'GET' ? await agent.get(url) : await agent.post(url, {});
            const expectAllowed = can({ kind: 'user', schoolId: 'x', userId: 'x', displayName: 'x', roles: [role] }, permission);
            if (expectAllowed) assert.notEqual(response.statusCode, 403, `${role} may ${method} ${route.url} (${permission})`);
            else assert.equal(response.statusCode, 403, `${role} must not ${method} ${route.url} (${permission}); got ${response.statusCode}`);
            checks += 1;
          }
        }
      }
      assert.ok(checks > 200, `${checks} checks ran`);
    });

    it('sends signed-out visitors to sign in, and API callers a JSON 401', async () => {
      const anonymous = new TestAgent(haven.app);
      assert.match((await anonymous.get('/people')).location ?? '', /^\/sign-in\?next=%2Fpeople/);
      const api = await anonymous.get('/api/v1/people');
      assert.equal(api.statusCode, 401);
      assert.deepEqual(Object.keys(JSON.parse(api.body) as object), ['error']);
    });
  });
}
