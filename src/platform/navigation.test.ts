import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminPagesFor, navigationFor } from './navigation.js';
import type { Actor } from './permissions.js';
import type { Role } from './roles.js';

const actor = (...roles: Role[]): Actor => ({ kind: 'user', schoolId: 's', userId: 'u', displayName: 'Test', roles });

describe('navigation', () => {
  it('puts administration behind one Admin link, shown only to those with an admin page', () => {
    const head = navigationFor(actor('headteacher'), '/admin/settings');
    assert.ok(!head.some((entry) => entry.href === '/admin/settings'), 'admin pages are not in the top row');
    assert.deepEqual(
      head.filter((entry) => entry.active).map((entry) => entry.text),
      ['Admin'],
    );
    assert.deepEqual(
      adminPagesFor(actor('headteacher')).map((page) => page.text),
      ['Accounts', 'Audit trail', 'API tokens', 'Settings', 'Monitoring data', 'Incident settings'],
    );
    const teacher = navigationFor(actor('staff'), '/consents');
    assert.ok(!teacher.some((entry) => entry.href === '/admin'));
    assert.deepEqual(adminPagesFor(actor('staff')), []);
    assert.deepEqual(
      teacher.filter((entry) => entry.active).map((entry) => entry.text),
      ['Consents'],
    );
    assert.deepEqual(
      adminPagesFor(actor('technician')).map((page) => page.text),
      ['API tokens', 'Monitoring data'],
    );
    // Governors reach the monitoring summary from the top row; those who read the alerts do not need it there.
    assert.ok(navigationFor(actor('governor'), '/').some((entry) => entry.href === '/monitoring/governors'));
    assert.ok(!navigationFor(actor('headteacher'), '/').some((entry) => entry.href === '/monitoring/governors'));
    assert.ok(navigationFor(actor('dsl'), '/').some((entry) => entry.href === '/monitoring/alerts'));
  });
});
