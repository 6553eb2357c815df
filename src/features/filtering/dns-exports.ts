import type { FilterModel } from './model.js';

/**
 * Exports of a group's policy for DNS servers and other filters (pure: no database, no HTTP). DNS
 * sees host names only, so URL entries are left out, and time windows cannot apply (their
 * categories stay blocked). A domain covers its subdomains; entries already covered by a parent are
 * dropped, which Squid requires and which keeps every file small.
 */

export const exportFormats = ['rpz', 'hosts', 'dnsmasq', 'unbound', 'squid-acl', 'adblock'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export const exportLabels: Record<ExportFormat, string> = {
  rpz: 'RPZ zone (BIND, Unbound, PowerDNS)',
  hosts: 'hosts file',
  dnsmasq: 'dnsmasq configuration',
  unbound: 'Unbound local zones',
  'squid-acl': 'Squid dstdomain ACL file',
  adblock: 'adblock list (||domain^)',
};

/** SafeSearch by DNS: search engines' own "safe" hosts, as CNAMEs. */
export const safeSearchRedirects: ReadonlyArray<[string, string]> = [
  ['www.google.com', 'forcesafesearch.google.com'],
  ['google.com', 'forcesafesearch.google.com'],
  ['www.google.co.uk', 'forcesafesearch.google.com'],
  ['google.co.uk', 'forcesafesearch.google.com'],
  ['www.bing.com', 'strict.bing.com'],
  ['www.youtube.com', 'restrictmoderate.youtube.com'],
  ['m.youtube.com', 'restrictmoderate.youtube.com'],
  ['youtubei.googleapis.com', 'restrictmoderate.youtube.com'],
  ['youtube.googleapis.com', 'restrictmoderate.youtube.com'],
  ['www.youtube-nocookie.com', 'restrictmoderate.youtube.com'],
  ['duckduckgo.com', 'safe.duckduckgo.com'],
  ['www.duckduckgo.com', 'safe.duckduckgo.com'],
];

/** Drops every domain whose parent is also in the set; sorted. */
export function pruneCovered(domains: Iterable<string>): string[] {
  const set = new Set(domains);
  const kept: string[] = [];
  for (const domain of set) {
    let covered = false;
    for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
      if (set.has(domain.slice(dot + 1))) {
        covered = true;
        break;
      }
    }
    if (!covered) kept.push(domain);
  }
  return kept.sort();
}

const policyOf = (model: FilterModel, group: string) => {
  const policy = model.policies.find((candidate) => candidate.group === group);
  if (!policy) throw new Error(`There is no policy for ${group}`);
  return policy;
};

/**
 * The domains a group cannot reach at `now`: illegal content always; the group's deny list; the
 * categories it blocks (less any category exception in force) — less its allow list and domain
 * exceptions in force, which never lift illegal content.
 */
export function blockedDomainsFor(model: FilterModel, group: string, now: number): string[] {
  const policy = policyOf(model, group);
  const illegal = new Set(model.categories.filter((category) => category.illegal).map((category) => category.code));
  const lifted = new Set(
    model.exceptions
      .filter((exception) => exception.group === group && exception.category && exception.startsAt <= now && now < exception.endsAt)
      .map((exception) => exception.category!),
  );
  const blockedCategories = new Set(policy.blockedCategories.filter((code) => !lifted.has(code)));
  const always = new Set<string>();
  const blocked = new Set<string>();
  for (const list of model.lists) {
    if (list.kind === 'category' && list.category && illegal.has(list.category)) for (const domain of list.domains) always.add(domain);
    else if ((list.kind === 'category' && list.category && blockedCategories.has(list.category)) || (list.kind === 'deny' && list.id === policy.denyListId))
      for (const domain of list.domains) blocked.add(domain);
  }
  const allowed = new Set(model.lists.find((list) => list.id === policy.allowListId)?.domains ?? []);
  for (const exception of model.exceptions)
    if (exception.group === group && exception.domain && exception.startsAt <= now && now < exception.endsAt) allowed.add(exception.domain);
  // Deny beats allow: a deny-listed domain stays blocked even when allowed.
  const denied = new Set(model.lists.find((list) => list.id === policy.denyListId)?.domains ?? []);
  for (const domain of allowed) if (!denied.has(domain)) blocked.delete(domain);
  for (const domain of always) blocked.add(domain);
  return pruneCovered(blocked);
}

/** The allow list of a walled-garden group (what it may reach), with domain exceptions in force. */
function allowedDomainsFor(model: FilterModel, group: string, now: number): string[] {
  const policy = policyOf(model, group);
  const allowed = new Set(model.lists.find((list) => list.id === policy.allowListId)?.domains ?? []);
  for (const exception of model.exceptions)
    if (exception.group === group && exception.domain && exception.startsAt <= now && now < exception.endsAt) allowed.add(exception.domain);
  const illegal = new Set(model.categories.filter((category) => category.illegal).map((category) => category.code));
  const illegalDomains = new Set(
    model.lists.filter((list) => list.kind === 'category' && list.category && illegal.has(list.category)).flatMap((list) => list.domains),
  );
  // Deny beats allow, and nothing lets illegal content through.
  const denied = new Set(model.lists.find((list) => list.id === policy.denyListId)?.domains ?? []);
  return pruneCovered([...allowed].filter((domain) => !illegalDomains.has(domain) && !denied.has(domain)));
}

export interface ExportOptions {
  zoneName?: string;
  /** SOA serial: must increase with each new zone (default: seconds since 1970 at `now`). */
  serial?: number;
}

/** A group's policy in one of the export formats, with a header saying what it holds and what it cannot. */
export function exportFor(model: FilterModel, group: string, format: ExportFormat, now: number, options: ExportOptions = {}): string {
  const policy = policyOf(model, group);
  const walled = policy.allowListOnly;
  if (walled && format !== 'rpz')
    throw new Error(
      `${policy.name} is allow-list only (a walled garden): only the RPZ zone can say "everything except these"; use the RPZ zone or the proxy for this group`,
    );
  const comment = format === 'adblock' ? '!' : format === 'rpz' ? ';' : '#';
  const domains = walled ? allowedDomainsFor(model, group, now) : blockedDomainsFor(model, group, now);
  const notes = [
    `Haven filter export: ${policy.name} (${group}), ${exportLabels[format]}`,
    `Snapshot ${model.version}, made ${new Date(now).toISOString()}`,
    walled ? `${domains.length} allowed domains; everything else is blocked` : `${domains.length} blocked domains (each covers its subdomains)`,
    'Web-address (URL) entries cannot be enforced by DNS and are left out; time windows do not apply here.',
    ...(policy.safeSearch && (format === 'hosts' || format === 'squid-acl' || format === 'adblock')
      ? ['SafeSearch cannot be expressed in this format: use the RPZ, Unbound or dnsmasq export or the proxy.']
      : []),
    ...(format === 'hosts' ? ['A hosts file cannot cover subdomains: each domain and its www. name are listed.'] : []),
  ];
  const header = notes.map((note) => `${comment} ${note}`);
  const covered = new Set(domains);
  const isCovered = (name: string) => {
    if (covered.has(name)) return true;
    for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) if (covered.has(name.slice(dot + 1))) return true;
    return false;
  };
  // A search engine that is blocked outright needs no SafeSearch redirect (and a zone cannot have both).
  const safe = policy.safeSearch && !walled ? safeSearchRedirects.filter(([name]) => !isCovered(name)) : [];
  const lines: string[] = format === 'adblock' ? ['[Adblock Plus 2.0]', ...header] : [...header];
  switch (format) {
    case 'rpz': {
      const serial = options.serial ?? Math.floor(now / 1000);
      lines.push('$TTL 300', `@ IN SOA localhost. hostmaster.localhost. ( ${serial} 3600 600 86400 300 )`, '@ IN NS localhost.');
      if (walled) {
        lines.push('* CNAME .');
        for (const domain of domains) lines.push(`${domain} CNAME rpz-passthru.`, `*.${domain} CNAME rpz-passthru.`);
      } else for (const domain of domains) lines.push(`${domain} CNAME .`, `*.${domain} CNAME .`);
      for (const [name, target] of safe) lines.push(`${name} CNAME ${target}.`);
      break;
    }
    case 'hosts':
      for (const domain of domains) lines.push(`0.0.0.0 ${domain}`, ...(domain.startsWith('www.') ? [] : [`0.0.0.0 www.${domain}`]));
      break;
    case 'dnsmasq':
      for (const domain of domains) lines.push(`address=/${domain}/0.0.0.0`, `address=/${domain}/::`);
      for (const [name, target] of safe) lines.push(`cname=${name},${target}`);
      break;
    case 'unbound':
      lines.push('server:');
      for (const domain of domains) lines.push(`  local-zone: "${domain}." always_nxdomain`);
      for (const [name, target] of safe) lines.push(`  local-zone: "${name}." redirect`, `  local-data: "${name}. CNAME ${target}."`);
      break;
    case 'squid-acl':
      for (const domain of domains) lines.push(`.${domain}`);
      break;
    case 'adblock':
      for (const domain of domains) lines.push(`||${domain}^`);
      break;
  }
  return `${lines.join('\n')}\n`;
}
