import { can, type Actor, type Permission } from './permissions.js';

interface NavigationEntry {
  href: string;
  text: string;
  permission: Permission;
  /** Administration pages are listed on /admin rather than in the top navigation. */
  admin?: true;
  /** Left out for those who hold this permission (they reach the page another way). */
  unless?: Permission;
  description?: string;
}

const entries: NavigationEntry[] = [
  { href: '/', text: 'Home', permission: 'dashboard.read' },
  { href: '/incidents', text: 'Incident log', permission: 'incident.respond' },
  { href: '/concerns/mine', text: 'Your reports', permission: 'incident.report' },
  { href: '/people', text: 'People', permission: 'people.read' },
  { href: '/agreements', text: 'Agreements', permission: 'agreements.manage' },
  { href: '/consents', text: 'Consents', permission: 'consents.grid' },
  { href: '/access-register', text: 'Access register', permission: 'accessRegister.read' },
  { href: '/video-conferences', text: 'Video conferences', permission: 'videoConferences.request' },
  { href: '/filtering', text: 'Filtering', permission: 'filtering.read' },
  { href: '/monitoring/alerts', text: 'Monitoring', permission: 'monitoring.alerts' },
  // Governors' way in; those who read the full alerts reach the summary from the reports page.
  { href: '/monitoring/governors', text: 'Monitoring summary', permission: 'monitoring.governorReport', unless: 'monitoring.alerts' },
  { href: '/filtering/requests', text: 'Filtering requests', permission: 'filtering.request' },
  { href: '/groups', text: 'Groups', permission: 'groups.read' },
  { href: '/who-to-tell', text: 'Who to tell', permission: 'rolesRegister.read' },
  {
    href: '/admin/users',
    text: 'Accounts',
    permission: 'users.read',
    admin: true,
    description: 'Invite people, give roles, disable accounts, reset two-factor.',
  },
  { href: '/audit', text: 'Audit trail', permission: 'audit.read', admin: true, description: 'Who did what and when, hash-chained so changes show.' },
  {
    href: '/admin/api-tokens',
    text: 'API tokens',
    permission: 'apiTokens.manage',
    admin: true,
    description: 'Tokens for integrations such as the MIS and the proxies.',
  },
  {
    href: '/admin/settings',
    text: 'Settings',
    permission: 'school.manage',
    admin: true,
    description: 'Sessions, passwords, consent rules and other school settings.',
  },
  {
    href: '/monitoring/data',
    text: 'Monitoring data',
    permission: 'monitoring.admin',
    admin: true,
    description: 'Web-activity logs read, what is kept and for how long, and lines Haven could not read.',
  },
  {
    href: '/admin/incident-types',
    text: 'Incident settings',
    permission: 'incidentSettings.manage',
    admin: true,
    description: 'Incident types, who is alerted, and the sanctions matrices.',
  },
];

/** The service navigation for an actor: only what they may open; administration pages behind one "Admin" link. */
export function navigationFor(actor: Actor | undefined, currentPath: string) {
  const path = currentPath.split('?')[0] ?? '/';
  const visible = entries.filter((entry) => can(actor, entry.permission) && !(entry.unless && can(actor, entry.unless)));
  const top = visible.filter((entry) => !entry.admin).map((entry) => ({ href: entry.href, text: entry.text }));
  if (visible.some((entry) => entry.admin)) top.push({ href: '/admin', text: 'Admin' });
  const adminPaths = visible.filter((entry) => entry.admin).map((entry) => entry.href);
  const matches = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`) || path.startsWith(`${href}.`));
  // The longest matching entry is the current one (so /filtering/requests is not also "Filtering").
  const inAdmin = path === '/admin' || adminPaths.some(matches);
  const current = inAdmin
    ? '/admin'
    : top
        .map((entry) => entry.href)
        .filter(matches)
        .sort((a, b) => b.length - a.length)[0];
  return top.map((entry) => ({ ...entry, active: entry.href === current }));
}

/** The administration pages an actor may open, for the /admin page. */
export function adminPagesFor(actor: Actor | undefined) {
  return entries.filter((entry) => entry.admin && can(actor, entry.permission)).map(({ href, text, description }) => ({ href, text, description }));
}
