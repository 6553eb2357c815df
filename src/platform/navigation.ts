import { can, type Actor, type Permission } from './permissions.js';

interface NavigationEntry {
  href: string;
  text: string;
  permission: Permission;
}

const entries: NavigationEntry[] = [
  { href: '/', text: 'Home', permission: 'dashboard.read' },
  { href: '/incidents', text: 'Incident log', permission: 'incident.respond' },
  { href: '/concerns/mine', text: 'Your reports', permission: 'incident.report' },
  { href: '/people', text: 'People', permission: 'people.read' },
  { href: '/agreements', text: 'Agreements', permission: 'agreements.manage' },
  { href: '/consents', text: 'Consents', permission: 'consents.grid' },
  { href: '/access-register', text: 'Access register', permission: 'accessRegister.read' },
  { href: '/groups', text: 'Groups', permission: 'groups.read' },
  { href: '/who-to-tell', text: 'Who to tell', permission: 'rolesRegister.read' },
  { href: '/admin/users', text: 'Accounts', permission: 'users.read' },
  { href: '/audit', text: 'Audit trail', permission: 'audit.read' },
  { href: '/admin/api-tokens', text: 'API tokens', permission: 'apiTokens.manage' },
  { href: '/admin/settings', text: 'Settings', permission: 'school.manage' },
  { href: '/admin/incident-types', text: 'Incident settings', permission: 'incidentSettings.manage' },
];

/** The service navigation for an actor: only what they may open. */
export function navigationFor(actor: Actor | undefined, currentPath: string) {
  const path = currentPath.split('?')[0] ?? '/';
  return entries
    .filter((entry) => can(actor, entry.permission))
    .map((entry) => ({ href: entry.href, text: entry.text, active: entry.href === '/' ? path === '/' : path.startsWith(entry.href) }));
}
