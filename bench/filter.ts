/**
 * Filtering benchmark (issue "Filtering", §7). Generates DOMAINS (default 3,000,000) domains and URLS
 * (default 300,000) URL entries across 20 categories, 5 group policies, and a REQUESTS (default
 * 1,000,000) request stream — about 90% allowed, many subdomains, some IDN and mixed case — then
 * measures:
 *
 *   compile_s             model → snapshot bytes
 *   load_s                read the snapshot file and map it (median of LOADS fresh processes)
 *   rss_bytes_per_domain  resident memory the loaded snapshot adds, per domain (fresh process)
 *   decisions_per_s       engine.decide in process, one core
 *   helper_lines_per_s    `haven-filter-helper --mode rewrite` over stdin/stdout, one process
 *   squidguard_lines_per_s, ratio_vs_squidguard  with Debian's squidguard (installed if missing and
 *                         apt is usable; SQUIDGUARD=0 skips), fed the same lines and lists
 *
 * Prints one JSON line of figures last. Needs `npm run build` (the helper runs from dist/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSnapshot, writeSnapshotFile } from '../src/features/filtering/compile.js';
import type { FilterModel, ListDef } from '../src/features/filtering/model.js';
import { median, round } from './figures.js';
import { generator } from './generate.js';

const domainCount = Number(process.env.DOMAINS ?? 3_000_000);
const urlCount = Number(process.env.URLS ?? 300_000);
const requestCount = Number(process.env.REQUESTS ?? 1_000_000);
const loads = Number(process.env.LOADS ?? 5);
const categoryCount = 20;

// A small deterministic generator, so every run builds the same lists.
const { random, word, tld } = generator();

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

log(`Generating ${domainCount.toLocaleString()} domains and ${urlCount.toLocaleString()} URL entries in ${categoryCount} categories…`);
const generationStarted = performance.now();
const listed: string[] = [];
const lists: ListDef[] = [];
const perCategory = Math.ceil(domainCount / categoryCount);
const urlsPerCategory = Math.ceil(urlCount / categoryCount);
const urlHosts: string[] = [];
for (let c = 0; c < categoryCount; c += 1) {
  const domains: string[] = [];
  for (let i = 0; i < perCategory && listed.length < domainCount; i += 1) {
    // About one entry in five is a subdomain entry (sub.site.tld), as real lists have.
    const domain = random() < 0.2 ? `${word(2, 6)}.${word(5, 12)}.${tld()}` : `${word(5, 14)}.${tld()}`;
    domains.push(domain);
    listed.push(domain);
  }
  const urls: string[] = [];
  for (let i = 0; i < urlsPerCategory && c * urlsPerCategory + i < urlCount; i += 1) {
    const host = `${word(5, 10)}.${tld()}`;
    urlHosts.push(host);
    urls.push(`${host}/${word(3, 8)}/${word(3, 10)}`);
  }
  lists.push({ id: `list-${c}`, kind: 'category', category: `c${String(c).padStart(2, '0')}`, domains, urls });
}
const allow: string[] = [];
for (let i = 0; i < 1000; i += 1) allow.push(`${word(5, 10)}.sch.uk`);
lists.push({ id: 'eyfs-allow', kind: 'allow', domains: allow, urls: [] });
lists.push({ id: 'ks2-deny', kind: 'deny', domains: listed.slice(0, 2000), urls: [] });
lists.push({ id: 'staff-allow', kind: 'allow', domains: listed.slice(2000, 2500), urls: [] });
const categories = Array.from({ length: categoryCount }, (_, c) => ({ code: `c${String(c).padStart(2, '0')}`, name: `Category ${c}`, illegal: c === 0 }));
const codes = (from: number, to: number) => categories.slice(from, to).map((category) => category.code);
const model: FilterModel = {
  version: 'bench-1',
  timeZone: 'Europe/London',
  categories,
  lists,
  policies: [
    { group: 'staff', name: 'Staff', blockedCategories: codes(1, 6), allowListOnly: false, safeSearch: false, allowListId: 'staff-allow' },
    { group: 'EYFS', name: 'Early years', blockedCategories: codes(1, 20), allowListOnly: true, safeSearch: true, allowListId: 'eyfs-allow' },
    { group: 'KS1', name: 'Key stage 1', blockedCategories: codes(1, 18), allowListOnly: false, safeSearch: true },
    { group: 'KS2', name: 'Key stage 2', blockedCategories: codes(1, 14), allowListOnly: false, safeSearch: true, denyListId: 'ks2-deny' },
    { group: 'guests', name: 'Guests', blockedCategories: codes(1, 12), allowListOnly: false, safeSearch: true },
  ],
  exceptions: Array.from({ length: 200 }, (_, i) => ({
    id: `exc-${i}`,
    group: 'KS2',
    domain: listed[5000 + i * 7]!,
    startsAt: Date.now() - 3_600_000,
    endsAt: Date.now() + 86_400_000,
  })),
  networks: [
    { cidr: '10.1.0.0/16', groups: ['staff'] },
    { cidr: '10.2.0.0/16', groups: ['EYFS'] },
    { cidr: '10.3.0.0/16', groups: ['KS1'] },
    { cidr: '10.4.0.0/16', groups: ['KS2'] },
    { cidr: '10.5.0.0/16', groups: ['guests'] },
  ],
  users: [],
  defaultGroups: ['guests'],
  blockPageUrl: 'http://127.0.0.1:3000/blocked',
};

// The request stream: about 90% to unlisted sites (allowed for most), the rest to listed domains,
// often through subdomains; some IDN and mixed case; paths of all lengths.
const requests: Array<{ ip: string; url: string }> = [];
// A large school's 4,000 devices: staff 20%, early years 4%, key stage 1 20%, key stage 2 40%, guests 16%.
const devices: string[] = [];
for (let i = 0; i < 4000; i += 1) {
  const share = random();
  const network = share < 0.2 ? 1 : share < 0.24 ? 2 : share < 0.44 ? 3 : share < 0.84 ? 4 : 5;
  devices.push(`10.${network}.${Math.floor(random() * 250)}.${1 + Math.floor(random() * 250)}`);
}
const unlisted: string[] = [];
for (let i = 0; i < 50_000; i += 1) unlisted.push(`${word(4, 12)}.${tld()}`);
for (let i = 0; i < requestCount; i += 1) {
  const ip = devices[Math.floor(random() * devices.length)]!;
  const roll = random();
  let host: string;
  if (roll < 0.9) host = unlisted[Math.floor(random() * unlisted.length)]!;
  else if (roll < 0.97) host = listed[Math.floor(random() * listed.length)]!;
  else host = urlHosts[Math.floor(random() * urlHosts.length)]!;
  const sub = random();
  if (sub < 0.35) host = `www.${host}`;
  else if (sub < 0.55) host = `${word(2, 8)}.${word(2, 6)}.${host}`;
  if (random() < 0.02) host = host.toUpperCase();
  if (random() < 0.01) host = `bücher-${host}`;
  const path = random() < 0.3 ? '/' : `/${word(2, 10)}/${word(2, 12)}${random() < 0.3 ? `?q=${word(3, 8)}` : ''}`;
  requests.push({ ip, url: `http://${host}${path}` });
}
log(`Generated in ${((performance.now() - generationStarted) / 1000).toFixed(1)} s.`);

const dir = mkdtempSync(join(tmpdir(), 'haven-filter-bench-'));
const figures: Record<string, number | string | null> = { domains: domainCount, urls: urlCount, requests: requestCount };
try {
  // compile_s
  const compileStarted = performance.now();
  const compiled = compileSnapshot(model, { blockTokenKey: 'bench-key' });
  figures.compile_s = round((performance.now() - compileStarted) / 1000, 3);
  const snapshotPath = join(dir, 'snapshot.bin');
  writeSnapshotFile(snapshotPath, compiled.bytes);
  figures.snapshot_bytes = compiled.bytes.length;
  log(`Compiled in ${figures.compile_s} s: ${(compiled.bytes.length / 1e6).toFixed(1)} MB.`);

  // The request lines, as Squid sends them to a url_rewrite_program with its default extras.
  const lines = requests.map((request) => `${request.url} ${request.ip}/- - GET myip=10.0.0.1 myport=3128\n`).join('');
  const linesPath = join(dir, 'requests.txt');
  writeFileSync(linesPath, lines);

  // load_s and rss_bytes_per_domain, each in a fresh process over the compiled engine.
  const childLoads: Array<{ loadSeconds: number; rssDelta: number }> = [];
  for (let i = 0; i < loads; i += 1) {
    const out = execFileSync(process.execPath, ['--expose-gc', 'bench/filter-child.mjs', 'load', snapshotPath], { encoding: 'utf8' });
    childLoads.push(JSON.parse(out) as { loadSeconds: number; rssDelta: number });
  }
  figures.load_s = round(median(childLoads.map((load) => load.loadSeconds)), 4);
  figures.rss_bytes_per_domain = round(median(childLoads.map((load) => load.rssDelta)) / domainCount, 1);
  log(`Loaded in ${figures.load_s} s; ${figures.rss_bytes_per_domain} bytes per domain.`);

  // decisions_per_s: in a fresh process, one core; the median of three processes (memory placement
  // alone moves a run by a fifth on a two-core machine).
  const decideRuns = [0, 1, 2].map(
    () =>
      JSON.parse(execFileSync(process.execPath, ['bench/filter-child.mjs', 'decide', snapshotPath, linesPath], { encoding: 'utf8' })) as {
        decisionsPerSecond: number;
        blockedShare: number;
      },
  );
  const decided = decideRuns[0]!;
  figures.decisions_per_s = Math.round(median(decideRuns.map((run) => run.decisionsPerSecond)));
  figures.blocked_share = round(decided.blockedShare, 3);
  log(`${figures.decisions_per_s.toLocaleString()} decisions/s; ${(decided.blockedShare * 100).toFixed(1)}% blocked.`);

  // helper_lines_per_s: the rewrite helper as Squid runs it, fed the stream over a pipe.
  // The median of three runs: pipes on a two-core machine are noisy.
  const helperRuns = [0, 1, 2].map(() =>
    pipeThrough(process.execPath, ['bin/haven-filter-helper.js', '--mode', 'rewrite', '--snapshot', snapshotPath], linesPath),
  );
  figures.helper_lines_per_s = Math.round(median(helperRuns));
  log(`Helper: ${figures.helper_lines_per_s.toLocaleString()} lines/s.`);

  // squidGuard, with the same lists and lines.
  const squidGuard = process.env.SQUIDGUARD === '0' ? null : ensureSquidGuard();
  if (squidGuard) {
    const conf = prepareSquidGuard(dir, model);
    log('Running squidGuard over the same lines…');
    figures.squidguard_lines_per_s = Math.round(pipeThrough(squidGuard, ['-c', conf], linesPath));
    figures.ratio_vs_squidguard = round(Number(figures.helper_lines_per_s) / Number(figures.squidguard_lines_per_s), 2);
  } else {
    figures.squidguard_lines_per_s = null;
    figures.ratio_vs_squidguard = null;
  }
} finally {
  if (process.env.KEEP) log(`Kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(figures));

/** Lines per second through a helper process, measured by a small separate process (bench/filter-child.mjs pipe). */
function pipeThrough(command: string, args: string[], inputPath: string): number {
  const out = execFileSync(process.execPath, ['bench/filter-child.mjs', 'pipe', inputPath, command, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return (JSON.parse(out) as { linesPerSecond: number }).linesPerSecond;
}

function ensureSquidGuard(): string | null {
  const path = '/usr/bin/squidGuard';
  if (existsSync(path)) return path;
  log('Installing Debian’s squidguard for the comparison…');
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const install =
    update.status === 0
      ? spawnSync('apt-get', ['install', '-y', '-qq', 'squidguard'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : update;
  if (install.status !== 0 || !existsSync(path)) {
    log('squidGuard is not available: its figures are left out.');
    return null;
  }
  return path;
}

/** Writes the same category lists as squidGuard databases (built with `squidGuard -C all`) and a config with the same policies by source range. */
function prepareSquidGuard(dir: string, filterModel: FilterModel): string {
  const dbDir = join(dir, 'sg-db');
  const logDir = join(dir, 'sg-log');
  mkdirSync(logDir, { recursive: true });
  const confLines = [`dbhome ${dbDir}`, `logdir ${logDir}`, ''];
  for (const list of filterModel.lists.filter((candidate) => candidate.kind === 'category')) {
    const category = list.category!;
    mkdirSync(join(dbDir, category), { recursive: true });
    writeFileSync(join(dbDir, category, 'domains'), `${list.domains.join('\n')}\n`);
    writeFileSync(join(dbDir, category, 'urls'), `${list.urls.join('\n')}\n`);
    confLines.push(`dest ${category} {`, `  domainlist ${category}/domains`, `  urllist ${category}/urls`, '}');
  }
  for (const network of filterModel.networks) {
    const group = network.groups[0]!;
    confLines.push(`src ${group} {`, `  ip ${network.cidr}`, '}');
  }
  confLines.push('acl {');
  for (const policy of filterModel.policies) {
    const blocked = policy.blockedCategories.map((code) => `!${code}`).join(' ');
    confLines.push(
      `  ${policy.group} {`,
      `    pass !c00 ${blocked} ${policy.allowListOnly ? 'none' : 'all'}`,
      `    redirect ${filterModel.blockPageUrl}?c=%t`,
      '  }',
    );
  }
  confLines.push('  default {', '    pass !c00 all', `    redirect ${filterModel.blockPageUrl}?c=%t`, '  }', '}');
  const conf = join(dir, 'squidGuard.conf');
  writeFileSync(conf, `${confLines.join('\n')}\n`);
  log('Building squidGuard’s databases (squidGuard -C all)…');
  const started = performance.now();
  const built = spawnSync('/usr/bin/squidGuard', ['-c', conf, '-C', 'all'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error(`squidGuard -C all failed (${built.status})`);
  log(`Built in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  return conf;
}
