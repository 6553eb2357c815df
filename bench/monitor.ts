/**
 * Monitoring benchmark (issue 6 §7). Generates LINES (default 5,000,000) Squid native access.log lines
 * for one school day (08:00–16:00 London) of a large school — about 4,000 devices, 30% of lines with a
 * proxy user name from PUPILS (1,000) pupils and STAFF (100) staff, ~8% TCP_DENIED/403 to listed domains,
 * ~5% search URLs (Google, Bing, YouTube, DuckDuckGo, Wikipedia, a site search), a share of CONNECT
 * tunnels, some mixed case, ~0.1% malformed lines — a DOMAINS (3,000,000) filtering snapshot over the
 * catalogue's categories and a PHRASES (5,000) phrase list (the default list plus made-up phrases), then
 * measures:
 *
 *   parse_match_lines_per_s   parse + classify + search terms + phrase scores, no storage, one core, in a
 *                             fresh process (bench/monitor-child.mjs parse-match), median of RUNS (3)
 *   grep_lines_per_s          `LC_ALL=C grep -F -c -i -f phrases.txt` over the same file, median of RUNS
 *   grep_ratio                parse_match_lines_per_s / grep_lines_per_s
 *   ingest_lines_per_s_sqlite `services.monitoring.ingestFile` over the whole file, end to end, in a fresh
 *                             process over a school set up in another (lists, networks, people, phrases)
 *   ingest_lines_per_s_postgres  the same on a fresh PostgreSQL database (DATABASE_URL; POSTGRES=0 skips)
 *   rss_mb                    peak resident memory of the SQLite ingest process (it compiles the snapshot too)
 *   parse_match_rss_mb        peak resident memory of the parse-and-match process
 *
 * Search terms are ordinary homework words; PHRASE_SHARE (0.001) of them contain phrases from the list.
 * Progress goes to stderr; the last stdout line is the JSON. KEEP=1 keeps the working folder; PROFILE=DIR
 * runs the children with --cpu-prof into DIR. Needs `npm run build` (the children run from dist/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { catalogue, defaultPolicies } from '../src/features/filtering/catalogue.js';
import { compileSnapshot, writeSnapshotFile } from '../src/features/filtering/compile.js';
import type { FilterModel, ListDef } from '../src/features/filtering/model.js';
import { defaultPhraseList } from '../src/features/monitoring/default-phrases.js';
import { parsePhraseList, themes, type PhraseEntry } from '../src/features/monitoring/phrases.js';
import { median, round } from './figures.js';
import { generator } from './generate.js';

const benchStarted = performance.now();
const lineCount = Number(process.env.LINES ?? 5_000_000);
const domainCount = Number(process.env.DOMAINS ?? 3_000_000);
const phraseCount = Number(process.env.PHRASES ?? 5000);
const pupilCount = Number(process.env.PUPILS ?? 1000);
const staffCount = Number(process.env.STAFF ?? 100);
const phraseShare = Number(process.env.PHRASE_SHARE ?? 0.001);
const runs = Number(process.env.RUNS ?? 3);
// PostgreSQL as on every Haven machine (127.0.0.1:5432, trust auth) unless DATABASE_URL says otherwise; POSTGRES=0 skips it.
const adminUrl = process.env.POSTGRES === '0' ? undefined : (process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const profileDir = process.env.PROFILE;

// A small deterministic generator, so every run writes the same file.
const { random, int, pick, word, tld } = generator();

/** Picks 0 … n-1 with probability ∝ 1 / (rank + 1)^s: web traffic piles onto a few hosts. */
function zipf(n: number, s = 1): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i += 1) cdf[i] = total += 1 / (i + 1) ** s;
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cdf[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/** Weighted choice from [value, weight] pairs. */
function weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): () => T {
  const total = pairs.reduce((sum, [, weight]) => sum + weight, 0);
  return () => {
    let target = random() * total;
    for (const [value, weight] of pairs) {
      target -= weight;
      if (target < 0) return value;
    }
    return pairs[pairs.length - 1]![0];
  };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
const seconds = (since: number) => (performance.now() - since) / 1000;

const dir = mkdtempSync(join(tmpdir(), 'haven-monitor-bench-'));
const figures: Record<string, number | string | null> = { lines: lineCount, domains: domainCount, phrases: phraseCount };
const cleanups: Array<() => Promise<void>> = [];
try {
  // --- The filtering lists: DOMAINS domains over the catalogue's categories --------------------------
  log(`Generating ${domainCount.toLocaleString()} domains in ${catalogue.length} categories…`);
  let started = performance.now();
  const listDir = join(dir, 'lists');
  mkdirSync(listDir);
  const lists: ListDef[] = [];
  const perCategory = Math.ceil(domainCount / catalogue.length);
  let generatedDomains = 0;
  for (const category of catalogue) {
    const domains: string[] = [];
    for (let i = 0; i < perCategory && generatedDomains < domainCount; i += 1, generatedDomains += 1)
      // About one entry in five is a subdomain entry (sub.site.tld), as real lists have.
      domains.push(random() < 0.2 ? `${word(2, 6)}.${word(5, 12)}.${tld()}` : `${word(5, 14)}.${tld()}`);
    writeFileSync(join(listDir, `${category.code}.txt`), `${domains.join('\n')}\n`);
    lists.push({ id: `list-${category.code}`, kind: 'category', category: category.code, domains, urls: [] });
  }
  log(`Generated in ${seconds(started).toFixed(1)} s.`);

  // --- People with network user names ------------------------------------------------------------------
  const firstNames = [
    'Ada',
    'Ben',
    'Chloe',
    'Dev',
    'Ella',
    'Finn',
    'Grace',
    'Harry',
    'Isla',
    'Jack',
    'Kai',
    'Lily',
    'Mia',
    'Noah',
    'Olivia',
    'Priya',
    'Ravi',
    'Sofia',
    'Tom',
    'Zara',
  ];
  const lastNames = [
    'Smith',
    'Jones',
    'Taylor',
    'Brown',
    'Williams',
    'Wilson',
    'Johnson',
    'Davies',
    'Patel',
    'Khan',
    'Evans',
    'Thomas',
    'Roberts',
    'Walker',
    'Wright',
    'Hughes',
  ];
  interface BenchPerson {
    kind: 'pupil' | 'staff';
    legalFirstName: string;
    legalLastName: string;
    yearGroup?: number;
    className?: string;
    networkUsername: string;
    /** The device this person logs in from (an address in their range). */
    device: string;
  }
  const people: BenchPerson[] = [];
  const usernames = new Set<string>();
  const uniqueName = (base: string) => {
    let name = base;
    for (let n = 2; usernames.has(name); n += 1) name = `${base}${n}`;
    usernames.add(name);
    return name;
  };
  // Address ranges per filtering group, as a school's DHCP scopes would be.
  const ranges = [
    { cidr: '10.1.0.0/16', prefix: '10.1', groupCode: 'all_staff:staff', label: 'Staff laptops', share: 0.15 },
    { cidr: '10.2.0.0/16', prefix: '10.2', groupCode: 'key_stage:EYFS', label: 'Early years tablets', share: 0.05 },
    { cidr: '10.3.0.0/16', prefix: '10.3', groupCode: 'key_stage:KS1', label: 'Key stage 1', share: 0.25 },
    { cidr: '10.4.0.0/16', prefix: '10.4', groupCode: 'key_stage:KS2', label: 'Key stage 2', share: 0.45 },
    { cidr: '10.5.0.0/16', prefix: '10.5', groupCode: 'guests:guests', label: 'Guest Wi-Fi', share: 0.1 },
  ];
  const address = (prefix: string) => `${prefix}.${int(250)}.${1 + int(250)}`;
  for (let i = 0; i < pupilCount; i += 1) {
    const yearGroup = int(7); // Reception to Year 6
    const first = pick(firstNames);
    const last = pick(lastNames);
    const prefix = yearGroup === 0 ? '10.2' : yearGroup <= 2 ? '10.3' : '10.4';
    people.push({
      kind: 'pupil',
      legalFirstName: first,
      legalLastName: last,
      yearGroup,
      className: `${yearGroup === 0 ? 'R' : yearGroup}${pick(['K', 'L', 'M', 'N'])}`,
      networkUsername: uniqueName(`${String(25 - yearGroup).padStart(2, '0')}${last}${first[0]}`.toLowerCase()),
      device: address(prefix),
    });
  }
  for (let i = 0; i < staffCount; i += 1) {
    const first = pick(firstNames);
    const last = pick(lastNames);
    people.push({
      kind: 'staff',
      legalFirstName: first,
      legalLastName: last,
      networkUsername: uniqueName(`${first[0]}.${last}`.toLowerCase()),
      device: address('10.1'),
    });
  }
  writeFileSync(join(dir, 'people.json'), JSON.stringify(people.map(({ device: _device, ...person }) => person)));
  const devices: string[] = [];
  for (const range of ranges) for (let i = 0; i < Math.round(4000 * range.share); i += 1) devices.push(address(range.prefix));

  // --- The phrase list: the default list plus made-up multiword phrases --------------------------------
  started = performance.now();
  const defaults = parsePhraseList(defaultPhraseList).entries;
  const syllables = [
    'ka',
    'lo',
    'mi',
    'zor',
    'vek',
    'tri',
    'bla',
    'nu',
    'pex',
    'dro',
    'qui',
    'sha',
    'fen',
    'gul',
    'mor',
    'tas',
    'vin',
    'yel',
    'zub',
    'cre',
    'pla',
    'sto',
  ];
  const madeUpWord = () => Array.from({ length: 2 + int(2) }, () => pick(syllables)).join('');
  const madeUpPhrase = () => Array.from({ length: 2 + int(3) }, madeUpWord).join(' ');
  const weightOf = weighted<number>([
    [15, 30],
    [10, 30],
    [5, 25],
    [-2, 10],
    [-10, 5],
  ]);
  const generated: string[] = [];
  const seen = new Set(defaults.map((entry) => entry.parts.join(' + ')));
  while (defaults.length + generated.length < phraseCount) {
    const text = random() < 0.06 ? `${madeUpPhrase()} + ${madeUpWord()}` : madeUpPhrase();
    if (seen.has(text)) continue;
    seen.add(text);
    const weight = weightOf();
    generated.push(`${pick(themes)} | ${weight} | ${weight > 0 ? 1 + int(5) : 1} | ${text}`);
  }
  const phraseText = `${defaultPhraseList}\n# Made-up phrases for the benchmark\n${generated.join('\n')}\n`;
  const parsedPhrases = parsePhraseList(phraseText);
  if (parsedPhrases.errors.length > 0) throw new Error(`The generated phrase list has errors: ${JSON.stringify(parsedPhrases.errors.slice(0, 5))}`);
  figures.phrases = parsedPhrases.entries.length;
  writeFileSync(join(dir, 'phrases.list'), phraseText);
  // For grep: every phrase, and every part of a combination, one per line.
  const grepPhrases = [...new Set(parsedPhrases.entries.flatMap((entry) => entry.parts))];
  writeFileSync(join(dir, 'phrases.txt'), `${grepPhrases.join('\n')}\n`);
  const alerting: PhraseEntry[] = parsedPhrases.entries.filter((entry) => entry.weight > 0);

  // --- The log ----------------------------------------------------------------------------------------
  log(`Generating ${lineCount.toLocaleString()} log lines…`);
  // Hosts everyone visits, most popular first, then a long tail of generated sites.
  const popular = [
    'www.google.com',
    'www.gstatic.com',
    'fonts.googleapis.com',
    'fonts.gstatic.com',
    'www.bbc.co.uk',
    'static.files.bbci.co.uk',
    'classroom.google.com',
    'docs.google.com',
    'login.microsoftonline.com',
    'outlook.office365.com',
    'www.youtube.com',
    'i.ytimg.com',
    'en.wikipedia.org',
    'upload.wikimedia.org',
    'www.purplemash.com',
    'play.ttrockstars.com',
    'www.mathletics.com',
    'www.oxfordowl.co.uk',
    'www.twinkl.co.uk',
    'scratch.mit.edu',
    'www.topmarks.co.uk',
    'www.natgeokids.com',
    'kids.britannica.com',
    'www.spellingframe.co.uk',
    'www.doodlemaths.com',
    'www.thenational.academy',
    'www.bing.com',
    'clients1.google.com',
    'safebrowsing.googleapis.com',
    'update.googleapis.com',
    'ctldl.windowsupdate.com',
    'cdn.jsdelivr.net',
    'ajax.googleapis.com',
    'www.apple.com',
    'duckduckgo.com',
    'www.google.co.uk',
    'accounts.google.com',
    'ssl.gstatic.com',
    'lh3.googleusercontent.com',
    'teams.microsoft.com',
  ];
  const tail = Array.from({ length: 60_000 }, () => {
    const roll = random();
    const site = `${word(4, 12)}.${tld()}`;
    return roll < 0.4 ? `www.${site}` : roll < 0.6 ? `${pick(['cdn', 'static', 'img', 'api', 'media', 'assets'])}.${site}` : site;
  });
  const hosts = [...popular, ...tail];
  const hostRank = zipf(hosts.length, 1.05);
  // Each device and each person mostly visits the sites everyone visits, and otherwise a few dozen of
  // its own (drawn from the whole Zipf tail): about 200 distinct hosts a day each, so the daily counts
  // per subject and host are about a fifth of the lines, not one row per line.
  const headRank = zipf(300, 1);
  const ownSites: string[][] = [];
  const hostFor = (subject: number) => {
    if (random() < 0.6) return hosts[headRank()]!;
    let own = ownSites[subject];
    if (!own) own = ownSites[subject] = Array.from({ length: 60 }, () => hosts[hostRank()]!);
    return own[int(own.length)]!;
  };
  const homework = [
    'volcano',
    'volcanoes',
    'photosynthesis',
    'tudors',
    'henry viii',
    'romans',
    'roman britain',
    'vikings',
    'anglo saxons',
    'ancient egypt',
    'pyramids',
    'times tables',
    'fractions',
    'decimals',
    'long division',
    'column addition',
    'place value',
    'area and perimeter',
    'angles',
    'shapes',
    'symmetry',
    'rivers',
    'water cycle',
    'rainforest',
    'climate change',
    'recycling',
    'solar system',
    'planets',
    'mars',
    'the moon',
    'space',
    'dinosaurs',
    'fossils',
    'habitats',
    'food chain',
    'animals',
    'mammals',
    'life cycle of a butterfly',
    'plants',
    'electricity',
    'circuits',
    'magnets',
    'forces',
    'light',
    'sound',
    'states of matter',
    'rocks',
    'soil',
    'the human body',
    'skeleton',
    'teeth',
    'digestive system',
    'healthy eating',
    'world war 2',
    'ww1',
    'the blitz',
    'evacuees',
    'great fire of london',
    'queen victoria',
    'kings and queens',
    'stone age',
    'bronze age',
    'iron age',
    'mayans',
    'aztecs',
    'greek myths',
    'shakespeare',
    'poems',
    'poetry',
    'spelling',
    'grammar',
    'fronted adverbials',
    'apostrophes',
    'similes',
    'metaphors',
    'persuasive writing',
    'book review',
    'roald dahl',
    'harry potter',
    'the gruffalo',
    'phonics',
    'french numbers',
    'spanish colours',
    'minecraft',
    'roblox',
    'football',
    'premier league',
    'recipes',
    'pancakes',
    'christmas',
    'easter',
    'diwali',
    'eid',
    'how to draw a cat',
    'how to draw',
    'origami',
    'coding',
    'scratch games',
    'kahoot',
    'countries of the world',
    'capital cities',
    'europe map',
    'uk map',
    'weather',
    'earthquakes',
    'tsunami',
    'penguins',
    'sharks',
    'cats',
    'dogs',
    'horses',
  ];
  const lead = ['', '', '', '', 'what is', 'what are', 'how do', 'why do', 'facts about', 'how to', 'ks2', 'year 5', 'year 3', 'bbc bitesize', 'for kids'];
  const tailWords = ['', '', '', '', 'for kids', 'facts', 'ks2', 'ks1', 'worksheet', 'video', 'pictures', 'homework help', 'year 6', 'games', 'song'];
  const homeworkTerm = () => [pick(lead), pick(homework), random() < 0.3 ? pick(homework) : '', pick(tailWords)].filter((part) => part !== '').join(' ');
  const concerningTerm = () => {
    const entry = pick(alerting);
    const parts = entry.parts.join(random() < 0.5 ? ' ' : ` ${pick(homework)} `);
    const term = random() < 0.5 ? parts : `${pick(lead)} ${parts}`.trim();
    return random() < 0.1 ? term.toUpperCase() : term;
  };
  const formEncode = (term: string) => encodeURIComponent(term).replaceAll('%20', '+');
  const searchUrl = weighted<(term: string) => string>([
    [
      (t) =>
        `https://www.google.co.uk/search?q=${formEncode(t)}&sca_esv=${word(8, 12)}&source=hp&ei=${word(16, 22)}&oq=${formEncode(t.slice(0, 4))}&sclient=gws-wiz`,
      35,
    ],
    [(t) => `https://www.google.com/search?q=${formEncode(t)}&rlz=1C1GCEA_enGB1000GB1000&oq=${formEncode(t)}&sourceid=chrome&ie=UTF-8`, 20],
    [(t) => `https://www.youtube.com/results?search_query=${formEncode(t)}`, 20],
    [(t) => `https://www.bing.com/search?q=${formEncode(t)}&form=QBLH&sp=-1&pq=${formEncode(t.slice(0, 3))}`, 8],
    [(t) => `https://duckduckgo.com/?q=${formEncode(t)}&t=h_&ia=web`, 5],
    [(t) => `https://en.wikipedia.org/w/index.php?search=${formEncode(t)}&title=Special%3ASearch&ns0=1`, 6],
    [(t) => `https://www.bbc.co.uk/search?q=${encodeURIComponent(t)}&d=bitesize`, 6],
  ]);
  // URLs with a search-looking parameter that are not searches (suggestions, APIs): mayBeSearch says yes, extractSearch no.
  const notASearch = weighted<() => string>([
    [() => `https://www.google.com/complete/search?q=${formEncode(pick(homework).slice(0, 3))}&cp=3&client=gws-wiz&xssi=t&hl=en-GB`, 4],
    [() => `https://suggestqueries.google.com/complete/search?client=youtube&ds=yt&q=${formEncode(pick(homework))}`, 2],
    [() => `https://api.${pick(tail).replace(/^(?:www|cdn|static|img|api|media|assets)\./, '')}/v1/lookup?q=${word(3, 8)}&key=${word(20, 30)}`, 2],
    [() => `https://maps.googleapis.com/maps/api/geocode/json?query=${word(4, 9)}&format=json`, 1],
  ]);
  // Most blocked requests are social media, games and streaming (embedded widgets, apps polling); the
  // categories whose blocked attempts raise alerts (school settings' monitorWatchedCategories) are about
  // 2% of them.
  const blockedCategory = weighted<string>([
    ['social_networking', 34],
    ['games', 24],
    ['streaming', 17],
    ['chat', 9],
    ['malware', 4],
    ['webmail', 3],
    ['gambling', 3],
    ['piracy', 2],
    ['dating', 0.5],
    ['pornography', 1],
    ['filter_bypass', 0.6],
    ['violence', 0.2],
    ['drugs', 0.1],
    ['discrimination', 0.05],
    ['extremism', 0.03],
    ['self_harm', 0.03],
    ['terrorism', 0.005],
    ['csam', 0.002],
  ]);
  // Pupils retry the same few blocked sites: the first 2,000 of a category's list, Zipf-weighted.
  const listedRank = zipf(2000, 1.1);
  const listsByCategory = new Map(lists.map((list) => [list.category!, list.domains]));
  const listedHost = (category: string) => {
    const domains = listsByCategory.get(category)!;
    const domain = domains[listedRank() % domains.length]!;
    return random() < 0.3 ? `www.${domain}` : domain;
  };
  const hex = () => Math.floor(random() * 0xffffffff).toString(16);
  const pathAndType = (): [string, string] => {
    const roll = random();
    const w = () => (random() < 0.5 ? pick(homework).replaceAll(' ', '-') : word(3, 10));
    if (roll < 0.12) return ['/', 'text/html'];
    if (roll < 0.3) return [`/${w()}/${w()}.html`, 'text/html'];
    if (roll < 0.45) return [`/static/js/${w()}.${hex()}.js`, 'application/javascript'];
    if (roll < 0.6) return [`/images/${w()}-${int(2000)}.${pick(['jpg', 'png', 'webp'])}`, pick(['image/jpeg', 'image/png', 'image/webp'])];
    if (roll < 0.68) return [`/assets/css/${w()}.${hex()}.css`, 'text/css'];
    if (roll < 0.8) return [`/api/v2/${w()}?id=${int(1e6)}&lang=en-GB&page=${int(20)}`, 'application/json'];
    if (roll < 0.9) return [`/${w()}/${w()}/${w()}?utm_source=${w()}&utm_medium=email&utm_campaign=${w()}&fbclid=${word(30, 60)}`, 'text/html'];
    if (roll < 0.95) return ['/favicon.ico', 'image/x-icon'];
    return [`/generate_204`, '-'];
  };
  const allowedStatus = weighted<string>([
    ['TCP_MISS/200', 60],
    ['TCP_HIT/200', 8],
    ['TCP_MEM_HIT/200', 5],
    ['TCP_REFRESH_UNMODIFIED/304', 5],
    ['TCP_MISS/304', 8],
    ['TCP_MISS/302', 6],
    ['TCP_MISS/404', 3],
    ['TCP_MISS_ABORTED/000', 2],
    ['NONE_NONE/000', 1],
    ['TCP_MISS/500', 1],
  ]);
  const upstream = () => `HIER_DIRECT/${pick(['203.0.113', '198.51.100', '192.0.2'])}.${1 + int(254)}`;
  const mixCase = (host: string) =>
    random() < 0.3 ? host.toUpperCase() : host.replace(/(^|\.)([a-z])/g, (_m, dot: string, letter: string) => dot + letter.toUpperCase());
  const dayStart = Date.UTC(2025, 11, 2, 8); // Tuesday 2 December 2025, 08:00 in London (GMT)
  const daySpan = 8 * 3_600_000;
  const logPath = join(dir, 'access.log');
  const out = openSync(logPath, 'w');
  const kinds = { search: 0, phrase: 0, blocked: 0, connect: 0, malformed: 0, user: 0 };
  let batch: string[] = [];
  for (let i = 0; i < lineCount; i += 1) {
    const at = dayStart + Math.floor(((i + random()) * daySpan) / lineCount);
    const time = `${Math.floor(at / 1000)}.${String(at % 1000).padStart(3, '0')}`;
    let client: string;
    let user = '-';
    let subject: number;
    if (random() < 0.3) {
      subject = devices.length + int(people.length);
      const person = people[subject - devices.length]!;
      client = person.device;
      user = random() < 0.02 ? person.networkUsername.toUpperCase() : person.networkUsername;
      kinds.user += 1;
    } else {
      subject = int(devices.length);
      client = devices[subject]!;
    }
    const roll = random();
    let line: string;
    if (roll < 0.08) {
      kinds.blocked += 1;
      const host = listedHost(blockedCategory());
      line =
        random() < 0.6
          ? `${time} ${int(5)} ${client} TCP_DENIED/403 ${3900 + int(300)} CONNECT ${host}:443 ${user} HIER_NONE/- text/html`
          : `${time} ${int(5)} ${client} TCP_DENIED/403 ${3900 + int(300)} GET http://${host}${pathAndType()[0]} ${user} HIER_NONE/- text/html`;
    } else if (roll < 0.13) {
      kinds.search += 1;
      const concerning = random() < phraseShare;
      if (concerning) kinds.phrase += 1;
      const url = searchUrl()(concerning ? concerningTerm() : homeworkTerm());
      line = `${time} ${30 + int(900)} ${client} TCP_MISS/200 ${20_000 + int(200_000)} GET ${url} ${user} ${upstream()} text/html`;
    } else if (roll < 0.38) {
      kinds.connect += 1;
      let host = hostFor(subject);
      if (random() < 0.01) host = mixCase(host);
      const status = random() < 0.97 ? 'TCP_TUNNEL/200' : 'NONE_NONE/000';
      line = `${time} ${int(120_000)} ${client} ${status} ${int(2_000_000)} CONNECT ${host}:443 ${user} ${status === 'NONE_NONE/000' ? 'HIER_NONE/-' : upstream()} -`;
    } else if (roll < 0.39) {
      // Listed, but allowed here (staff on a streaming site, a lesson on a games site): logged as any other request.
      const host = listedHost(pick(['streaming', 'games', 'social_networking', 'webmail']));
      const [path, type] = pathAndType();
      line = `${time} ${int(2000)} ${client} TCP_MISS/200 ${int(500_000)} GET http://${host}${path} ${user} ${upstream()} ${type}`;
    } else if (roll < 0.4) {
      line = `${time} ${int(300)} ${client} TCP_MISS/200 ${int(5000)} GET ${notASearch()()} ${user} ${upstream()} application/json`;
    } else if (roll < 0.401) {
      kinds.malformed += 1;
      const good = `${time} ${int(500)} ${client} TCP_MISS/200 ${int(50_000)} GET http://${hostFor(subject)}/ ${user} ${upstream()} text/html`;
      const variant = int(6);
      if (variant === 0)
        line = good.slice(0, 10 + int(good.length - 30)); // cut short (a crash mid-write)
      else if (variant === 1)
        line = pick(['-- squid restarted --', 'FATAL: Received Segment Violation...dying.', '2025/12/02 09:14:01| Starting Squid Cache version 6.10']);
      else if (variant === 2) line = good.replace(time, `${time.slice(0, 4)}x${time.slice(5)}`);
      else if (variant === 3) line = good.replace('TCP_MISS/200', 'TCP_MISS/2000');
      else if (variant === 4) line = Array.from({ length: 20 + int(60) }, () => String.fromCharCode(33 + int(94))).join('');
      else line = `${time} ${int(500)} ${client} TCP_MISS/200 ${int(5000)}`;
    } else {
      let host = hostFor(subject);
      if (random() < 0.01) host = mixCase(host);
      const [path, type] = pathAndType();
      const status = allowedStatus();
      const scheme = random() < 0.3 ? 'http' : 'https';
      const hier = status.startsWith('TCP_HIT') || status.startsWith('TCP_MEM') || status.startsWith('NONE') ? 'HIER_NONE/-' : upstream();
      line = `${time} ${int(3000)} ${client} ${status} ${int(300_000)} GET ${scheme}://${host}${path} ${user} ${hier} ${type}`;
    }
    batch.push(line);
    if (batch.length === 20_000) {
      writeSync(out, `${batch.join('\n')}\n`);
      batch = [];
    }
  }
  if (batch.length > 0) writeSync(out, `${batch.join('\n')}\n`);
  closeSync(out);
  figures.log_bytes = statSync(logPath).size;
  figures.generate_s = round(seconds(benchStarted), 1);
  log(
    `Generated in ${seconds(started).toFixed(1)} s: ${(Number(figures.log_bytes) / 1e6).toFixed(0)} MB; ${kinds.blocked} blocked, ${kinds.search} searches (${kinds.phrase} with listed phrases), ${kinds.connect} CONNECT, ${kinds.malformed} malformed, ${kinds.user} with a user name.`,
  );

  // --- The snapshot for parse-and-match, from the model the filtering service would build ---------------
  // Mirrors buildModel in src/features/filtering/service.ts: the catalogue, the default policies, the
  // address ranges, and the people's user names — as "uncleared", which is what the service compiles for
  // people with no ICT-access-register clearance (as the ingest runs' people are).
  started = performance.now();
  const model: FilterModel = {
    version: 'bench-monitor',
    timeZone: 'Europe/London',
    categories: catalogue.map((category) => ({ code: category.code, name: category.name, illegal: category.group === 'illegal' })),
    lists,
    policies: defaultPolicies.map((policy) => ({
      group: policy.group,
      name: policy.name,
      blockedCategories: policy.blocked,
      allowListOnly: policy.allowListOnly,
      safeSearch: policy.safeSearch,
      timeWindows: [],
    })),
    exceptions: [],
    networks: ranges.map((range) => ({ cidr: range.cidr, groups: [range.groupCode], label: range.label })),
    users: people.map((person) => ({ username: person.networkUsername, groups: ['uncleared'] })),
    defaultGroups: ['uncleared'],
    blockPageUrl: 'http://haven.bench/blocked/school',
  };
  const compiled = compileSnapshot(model, { blockTokenKey: 'bench-key' });
  const snapshotPath = join(dir, 'snapshot.bin');
  writeSnapshotFile(snapshotPath, compiled.bytes);
  figures.compile_s = round(seconds(started), 2);
  log(`Compiled the snapshot in ${figures.compile_s} s: ${(compiled.bytes.length / 1e6).toFixed(1)} MB.`);

  // --- parse_match_lines_per_s: fresh processes, one core, no storage -----------------------------------
  interface ParseMatch {
    seconds: number;
    lines: number;
    linesPerSecond: number;
    bad: number;
    events: number;
    searches: number;
    blocked: number;
    hits: number;
    phraseHits: number;
    loadSeconds: number;
    maxRssMb: number;
  }
  const parseRuns: ParseMatch[] = [];
  for (let run = 0; run < runs; run += 1) {
    const result = child<ParseMatch>(['parse-match', snapshotPath, join(dir, 'phrases.list'), join(dir, 'people.json'), logPath], `parse-match-${run}`);
    parseRuns.push(result);
    log(`Parse and match ${run + 1}/${runs}: ${Math.round(result.linesPerSecond).toLocaleString()} lines/s (${result.seconds.toFixed(2)} s).`);
  }
  const parseMatch = parseRuns.slice().sort((a, b) => a.linesPerSecond - b.linesPerSecond)[Math.floor(parseRuns.length / 2)]!;
  const parseMatchRate = Math.round(parseMatch.linesPerSecond);
  figures.parse_match_lines_per_s = parseMatchRate;
  figures.parse_match_runs = parseRuns.map((result) => Math.round(result.linesPerSecond)).join(' ');
  figures.parse_match_rss_mb = Math.round(Math.max(...parseRuns.map((result) => result.maxRssMb)));
  figures.parse_match_load_s = round(parseMatch.loadSeconds, 2);
  figures.bad_lines = parseMatch.bad;
  figures.events = parseMatch.events;
  figures.searches = parseMatch.searches;
  figures.blocked = parseMatch.blocked;
  figures.hits = parseMatch.hits;
  figures.phrase_hits = parseMatch.phraseHits;

  // --- grep over the same file -------------------------------------------------------------------------
  const grepRuns: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const grepStarted = performance.now();
    const grep = spawnSync('grep', ['-F', '-c', '-i', '-f', join(dir, 'phrases.txt'), logPath], { env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' });
    const grepSeconds = seconds(grepStarted);
    if (grep.status !== 0 && grep.status !== 1) throw new Error(`grep failed (${grep.status}): ${grep.stderr}`);
    figures.grep_matches = Number(grep.stdout.trim());
    grepRuns.push(lineCount / grepSeconds);
    log(
      `grep ${run + 1}/${runs}: ${Math.round(lineCount / grepSeconds).toLocaleString()} lines/s (${grepSeconds.toFixed(2)} s, ${figures.grep_matches} lines matched).`,
    );
  }
  const grepRate = Math.round(median(grepRuns));
  figures.grep_lines_per_s = grepRate;
  figures.grep_ratio = round(parseMatchRate / grepRate, 2);

  // --- ingest_lines_per_s: end to end through the services, SQLite then PostgreSQL ----------------------
  interface Setup {
    schoolId: string;
    peopleSeconds: number;
    listSeconds: number;
    compileSeconds: number;
    domains: number;
  }
  interface Ingest {
    seconds: number;
    warmSeconds: number;
    linesPerSecond: number;
    outcome: { lines: number; bad: number; events: number; searches: number; blocked: number; alerts: number };
    stored: Record<string, number>;
    maxRssMb: number;
    peakRssDuringMb: number;
  }
  const ingestOn = (dialect: 'sqlite' | 'postgres', databaseUrl: string | undefined) => {
    const dataDir = join(dir, `data-${dialect}`);
    const env = { HAVEN_DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    log(`${dialect}: setting up the school (${people.length} people, ${catalogue.length} category lists)…`);
    const setup = child<Setup>(['setup', dir], `setup-${dialect}`, env);
    log(
      `${dialect}: people in ${setup.peopleSeconds.toFixed(1)} s; lists loaded in ${setup.listSeconds.toFixed(1)} s; compiled ${setup.domains.toLocaleString()} domains in ${setup.compileSeconds.toFixed(1)} s.`,
    );
    log(`${dialect}: ingesting…`);
    const ingest = child<Ingest>(['ingest', setup.schoolId, logPath], `ingest-${dialect}`, env);
    log(
      `${dialect}: ${Math.round(ingest.linesPerSecond).toLocaleString()} lines/s (${ingest.seconds.toFixed(1)} s); ${ingest.outcome.events} events, ${ingest.outcome.alerts} alerts; stored ${JSON.stringify(ingest.stored)}; peak RSS ${Math.round(ingest.maxRssMb)} MB.`,
    );
    return { setup, ingest };
  };
  const sqlite = ingestOn('sqlite', undefined);
  figures.ingest_lines_per_s_sqlite = Math.round(sqlite.ingest.linesPerSecond);
  figures.ingest_s_sqlite = round(sqlite.ingest.seconds, 2);
  figures.list_load_s_sqlite = round(sqlite.setup.listSeconds, 1);
  figures.alerts_sqlite = sqlite.ingest.outcome.alerts;
  figures.rss_mb = Math.round(sqlite.ingest.maxRssMb);
  figures.rss_during_ingest_mb = Math.round(sqlite.ingest.peakRssDuringMb);

  figures.ingest_lines_per_s_postgres = null;
  if (adminUrl) {
    const name = `haven_bench_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    cleanups.push(async () => {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    });
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const postgres = ingestOn('postgres', url.toString());
    figures.ingest_lines_per_s_postgres = Math.round(postgres.ingest.linesPerSecond);
    figures.ingest_s_postgres = round(postgres.ingest.seconds, 2);
    figures.list_load_s_postgres = round(postgres.setup.listSeconds, 1);
    figures.alerts_postgres = postgres.ingest.outcome.alerts;
    figures.rss_mb_postgres = Math.round(postgres.ingest.maxRssMb);
  } else log('PostgreSQL: skipped (no DATABASE_URL, or POSTGRES=0).');
} finally {
  for (const cleanup of cleanups) await cleanup().catch((error: unknown) => log(`Cleanup failed: ${String(error)}`));
  if (process.env.KEEP) log(`Kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
figures.bench_s = Math.round(seconds(benchStarted));
console.log(JSON.stringify(figures));

/** Runs bench/monitor-child.mjs in a fresh process and reads its JSON answer (its stderr passes through). */
function child<T>(args: string[], label: string, env: Record<string, string> = {}): T {
  const flags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${label}.cpuprofile`] : [];
  // The SQLite runs must not inherit the PostgreSQL server's address.
  const { DATABASE_URL: _adminUrl, ...inherited } = process.env;
  const output = execFileSync(process.execPath, [...flags, 'bench/monitor-child.mjs', ...args], {
    encoding: 'utf8',
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output) as T;
}
