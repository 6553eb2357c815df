import { hash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { filterBits, finish, seedA, seedB, startSlot, stepA, stepB } from './hash.js';
import type { Verdict } from './model.js';
import { normaliseHost } from './normalise.js';
import { magic, snapshotFormat, type SnapshotHeader, type TableRef } from './snapshot.js';

/**
 * The decision engine (DESIGN.md "Filtering semantics"): a pure module — no database, no HTTP. It
 * loads a compiled snapshot and answers decide(who, url). Swapping in a new snapshot replaces one
 * reference between two synchronous decisions, so nothing in flight is dropped or stalled.
 *
 * Precedence: illegal-content lists (always blocked) → group deny list → active approved exception /
 * group allow list → blocked categories of the group (the most specific matching entry decides the
 * category) → group default (allow, or block for allow-list-only groups). With several groups, the
 * most restrictive verdict wins.
 */

const kindCategory = 0;
const kindAllow = 1;
const kindDeny = 2;
const kindException = 3;

interface Table {
  slots: Uint32Array;
  filter: Uint32Array;
  capacity: number;
  /** The filter word of a key is its low half shifted right by this. */
  filterShift: number;
}

interface Policy {
  group: string;
  /** Shared answers for the commonest outcomes, so allowing a request allocates nothing. */
  allowDefault: Decision;
  allowByCategory: Array<Decision | undefined>;
  blocked: Uint8Array;
  allowListOnly: boolean;
  safeSearch: boolean;
  allowTag: number;
  denyTag: number;
  categoryExceptions: Array<{ category: number; startsAt: number; endsAt: number }>;
  timeWindows: Array<{ days: number[]; from: number; to: number; allow: Uint8Array }>;
}

interface Network {
  v4: boolean;
  base: number;
  mask: number;
  prefix: bigint;
  bits: number;
  policies: number[];
}

export interface Snapshot {
  header: SnapshotHeader;
  version: string;
  domains: Table;
  urls: Table;
  setOffsets: Uint32Array;
  setMembers: Uint16Array;
  tagKind: Uint8Array;
  tagRef: Int32Array;
  illegal: Uint8Array;
  categoryCodes: string[];
  policies: Policy[];
  exceptions: SnapshotHeader['exceptions'];
  policyByGroup: Map<string, number>;
  users: Map<string, number[]>;
  networks: Network[];
  defaultPolicies: number[];
  blockPageUrl: string;
  blockTokenKey: string;
  timeZone: string;
  /** Bytes of the file the typed arrays view (for memory figures). */
  byteLength: number;
  /** The regular-expression slow path (tried only when no entry matched). */
  expressions: Array<{ set: number; regex: RegExp }>;
  /** Address ranges' policies already worked out per client address text (IPv6; IPv4 goes through ipCache). */
  byAddress: Map<string, number[]>;
  /** Policies per proxy user name as logged (empty for names of no one known). */
  byUser: Map<string, number[]>;
  /** User policies ∪ address-range policies, per pair of lists. */
  unions: Map<number[], Map<number[], number[]>>;
  ipCache: { keys: Int32Array; values: Int32Array; lists: number[][] };
  /** Block-page addresses made this minute. */
  blockPages: Map<string, string>;
  blockMinute: number;
}

function view(bytes: Buffer, start: number, ref: { offset: number; length: number }, kind: 'u32' | 'u16'): Uint32Array | Uint16Array {
  const offset = bytes.byteOffset + start + ref.offset;
  // Typed arrays need aligned offsets; the file aligns sections to 8, a pooled Buffer may not be.
  if (offset % 4 !== 0) {
    const copy = new Uint8Array(ref.length);
    copy.set(bytes.subarray(start + ref.offset, start + ref.offset + ref.length));
    return kind === 'u32' ? new Uint32Array(copy.buffer) : new Uint16Array(copy.buffer);
  }
  return kind === 'u32' ? new Uint32Array(bytes.buffer, offset, ref.length / 4) : new Uint16Array(bytes.buffer, offset, ref.length / 2);
}

function ipv4ToNumber(address: string): number {
  const parts = address.split('.');
  return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
}

function ipv6ToBigInt(address: string): bigint | null {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (text.includes('.')) {
    // An embedded IPv4 tail (::ffff:10.0.0.1).
    const last = text.lastIndexOf(':');
    const v4 = text.slice(last + 1);
    if (!isIPv4(v4)) return null;
    const n = ipv4ToNumber(v4);
    text = `${text.slice(0, last + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const groups = [...head, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** Maps a snapshot file's bytes into an engine snapshot (no copying of the tables). */
export function loadSnapshot(bytes: Buffer): Snapshot {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== magic) throw new Error('Not a Haven filter snapshot (bad magic)');
  const headerLength = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as SnapshotHeader;
  if (header.format !== snapshotFormat) throw new Error(`Unsupported snapshot format ${String(header.format)}`);
  const start = Math.ceil((12 + headerLength) / 8) * 8;
  const table = (ref: TableRef): Table => ({
    slots: view(bytes, start, ref.slots, 'u32') as Uint32Array,
    filter: view(bytes, start, ref.filter, 'u32') as Uint32Array,
    capacity: ref.capacity,
    filterShift: 32 - Math.log2(ref.filterBits / 32),
  });
  const categoryCount = header.categories.length;
  const tagKind = new Uint8Array(header.tags.length);
  const tagRef = new Int32Array(header.tags.length);
  const listTags = new Map<string, number>();
  header.tags.forEach((tag, index) => {
    tagKind[index] = tag.kind === 'category' ? kindCategory : tag.kind === 'allow' ? kindAllow : tag.kind === 'deny' ? kindDeny : kindException;
    tagRef[index] = typeof tag.ref === 'number' ? tag.ref : -1;
    if (typeof tag.ref === 'string') listTags.set(tag.ref, index);
  });
  const policies: Policy[] = header.policies.map((policy) => {
    const blocked = new Uint8Array(categoryCount);
    for (const index of policy.blocked) blocked[index] = 1;
    return {
      group: policy.group,
      allowDefault: Object.freeze<Decision>({ action: 'allow', category: null, rule: 'default', group: policy.group, snapshot: header.version }),
      allowByCategory: [],
      blocked,
      allowListOnly: policy.allowListOnly,
      safeSearch: policy.safeSearch,
      allowTag: policy.allowTag,
      denyTag: policy.denyTag,
      categoryExceptions: header.exceptions
        .filter((exception) => exception.group === policy.group && exception.category >= 0)
        .map((exception) => ({ category: exception.category, startsAt: exception.startsAt, endsAt: exception.endsAt })),
      timeWindows: policy.timeWindows.map((window) => {
        const allow = new Uint8Array(categoryCount);
        for (const index of window.allowCategories) allow[index] = 1;
        return { days: window.days, from: window.from, to: window.to, allow };
      }),
    };
  });
  const policyByGroup = new Map(policies.map((policy, index) => [policy.group, index]));
  const policiesOf = (groups: readonly string[]) =>
    [...new Set(groups.map((group) => policyByGroup.get(group)).filter((index): index is number => index !== undefined))].sort((a, b) => a - b);
  const networks: Network[] = header.networks.map((network) => {
    const [address = '', bitsText] = network.cidr.split('/');
    const v4 = isIPv4(address);
    const bits = Number(bitsText ?? (v4 ? 32 : 128));
    if (v4) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return { v4, base: (ipv4ToNumber(address) & mask) >>> 0, mask, prefix: 0n, bits, policies: policiesOf(network.groups) };
    }
    const value = ipv6ToBigInt(address) ?? 0n;
    return { v4, base: 0, mask: 0, prefix: bits === 0 ? 0n : value >> BigInt(128 - bits), bits, policies: policiesOf(network.groups) };
  });
  return {
    header,
    version: header.version,
    domains: table(header.domains),
    urls: table(header.urls),
    setOffsets: view(bytes, start, header.sets.offsets, 'u32') as Uint32Array,
    setMembers: view(bytes, start, header.sets.members, 'u16') as Uint16Array,
    tagKind,
    tagRef,
    illegal: Uint8Array.from(header.categories.map((category) => (category.illegal ? 1 : 0))),
    categoryCodes: header.categories.map((category) => category.code),
    policies,
    exceptions: header.exceptions,
    policyByGroup,
    users: new Map(Object.entries(header.users).map(([user, groups]) => [user, policiesOf(groups)])),
    networks,
    defaultPolicies: policiesOf(header.defaultGroups),
    blockPageUrl: header.blockPageUrl,
    blockTokenKey: header.blockTokenKey,
    timeZone: header.timeZone,
    byteLength: bytes.byteLength,
    expressions: (header.expressions ?? []).map((expression) => ({ set: expression.set, regex: new RegExp(expression.pattern) })),
    byAddress: new Map(),
    byUser: new Map(),
    unions: new Map(),
    ipCache: { keys: new Int32Array(ipCacheSize), values: new Int32Array(ipCacheSize), lists: [] },
    blockPages: new Map(),
    blockMinute: -1,
  };
}

/** True when the table's filter lets a key through (it may be an entry or an entry's ancestor). */
function passes(table: Table, hi: number, lo: number): boolean {
  const bits = filterBits(hi);
  return (table.filter[lo >>> table.filterShift]! & bits) === bits;
}

function lookup(table: Table, hi: number, lo: number): number {
  return passes(table, hi, lo) ? probe(table, hi, lo) : 0;
}

/** The slot search, once the filter has let a key through. */
function probe(table: Table, hi: number, lo: number): number {
  const { slots, capacity } = table;
  let slot = startSlot(hi, capacity);
  for (;;) {
    const at = slot * 3;
    const value = slots[at + 2]!;
    if (value === 0) return 0;
    if (slots[at] === hi && slots[at + 1] === lo) return value;
    slot += 1;
    if (slot === capacity) slot = 0;
  }
}

/** Dotted IPv4 → number, or -1 when the text is not one (no allocation). */
function parseIpv4(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      part = part * 10 + (code - 48);
      if (part > 255) return -1;
      digits += 1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** Shared "no policies" answer: an empty list that is never changed. */
const noPolicies: number[] = [];

/** The policies of every address range that holds `ip` (IPv4 or IPv6 text), in range order; empty when none. */
function networksOf(snap: Snapshot, ip: string): number[] {
  let found = noPolicies;
  if (snap.networks.length === 0) return found;
  const n = parseIpv4(ip);
  const v6 = n === -1 ? ipv6ToBigInt(ip) : null;
  for (const network of snap.networks) {
    const hit = network.v4
      ? n !== -1 && (n & network.mask) >>> 0 === network.base
      : v6 !== null && (network.bits === 0 ? true : v6 >> BigInt(128 - network.bits) === network.prefix);
    if (hit && network.policies.length > 0)
      found = found.length > 0 && found !== network.policies ? [...new Set([...found, ...network.policies])] : network.policies;
  }
  return found;
}

export interface Who {
  /** Client address as the proxy sees it. */
  ip?: string | undefined;
  /** Proxy user name ("-" or empty when none). */
  user?: string | undefined;
}

/** Search engines whose results can be forced safe by a query parameter (proxy mode, plain HTTP). */
const safeSearchParams: Array<{ host: RegExp; path: string; param: string }> = [
  { host: /^www\.google\.[a-z.]+$/, path: '/search', param: 'safe=active' },
  { host: /^www\.bing\.com$/, path: '/search', param: 'adlt=strict' },
  { host: /^(www\.)?duckduckgo\.com$/, path: '/', param: 'kp=1' },
];

export interface Decision extends Verdict {
  /** The normalised host, on blocks and rewrites (null when the URL had none: malformed). Allowed answers are shared objects without it. */
  host?: string | null;
  /** For SafeSearch: the same URL with the search engine's safe parameter forced. */
  rewriteUrl?: string;
}

const maxLabels = 128;
const ipCacheBits = 14;
const ipCacheSize = 1 << ipCacheBits;
/** The slow path looks at no more than this much of a path. */
const maxExpressionSubject = 2048;

/** ASCII bytes as a string (from a Buffer directly: a view made per call costs three times as much). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (bytes instanceof Buffer) return bytes.toString('latin1', start, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** Cheap test, without allocating, for hosts SafeSearch may rewrite. */
function isSearchHost(text: string, from: number, to: number): boolean {
  // Character checks first: almost every host fails them without a string comparison.
  if (text.charCodeAt(from) === 119 && text.charCodeAt(from + 3) === 46) {
    const fifth = text.charCodeAt(from + 4);
    if (fifth === 103 && text.startsWith('www.google.', from)) return true;
    if (fifth === 98 && to - from === 12 && text.startsWith('www.bing.com', from)) return true;
  }
  return to - from >= 14 && text.charCodeAt(to - 14) === 100 && text.charCodeAt(to - 1) === 109 && text.endsWith('duckduckgo.com', to);
}

function asciiAt(bytes: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Whether the string path must look at a request for a SafeSearch rewrite: a search page of
 * www.google.<anything> or www.bing.com ("/search…"), or any page of a host ending duckduckgo.com —
 * the hosts and paths safeSearchParams rewrite (the string path then decides). `hostEnd` is where the
 * path starts.
 */
function mayRewriteBytes(bytes: Uint8Array, from: number, hostEnd: number, end: number): boolean {
  if (hostEnd - from > 11 && asciiAt(bytes, from, 'www.')) {
    if (asciiAt(bytes, from + 4, 'google.') || (hostEnd - from === 12 && asciiAt(bytes, from + 4, 'bing.com')))
      return end - hostEnd >= 7 && asciiAt(bytes, hostEnd, '/search');
  }
  return hostEnd - from >= 14 && asciiAt(bytes, hostEnd - 14, 'duckduckgo.com');
}

export class FilterEngine {
  private snapshot: Snapshot;
  // Scratch space reused by every decision: no allocation on the hot path.
  private readonly suffixHi = new Uint32Array(maxLabels);
  private readonly suffixLo = new Uint32Array(maxLabels);
  private readonly matched = new Int32Array(maxLabels * 2 + 8);
  private readonly domainMatched = new Int32Array(maxLabels);
  private readonly urlKeysHi = new Uint32Array(256);
  private readonly urlKeysLo = new Uint32Array(256);
  private readonly normalHosts = new Map<string, string | null>();
  private clockMinute = -1;
  private localDay = 0;
  private localMinute = 0;
  private readonly dayFormat: Intl.DateTimeFormat;

  constructor(snapshot: Snapshot) {
    this.snapshot = snapshot;
    this.dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: snapshot.timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }

  get version(): string {
    return this.snapshot.version;
  }

  get current(): Snapshot {
    return this.snapshot;
  }

  /** Replaces the snapshot between two decisions. */
  swap(snapshot: Snapshot): void {
    this.snapshot = snapshot;
  }

  /** policiesFor without a `who` object (the helpers' hot path). */
  policiesForAddress(ip: string | undefined, user: string | undefined): number[] {
    return this.policiesFor({ ip, user });
  }

  /** policiesFor for an IPv4 address already parsed to a number (an int32), without a user name (no string needed). */
  policiesForIpv4(address: number): number[] {
    const networks = this.networksForIpv4(address);
    return networks.length > 0 ? networks : this.snapshot.defaultPolicies;
  }

  /** policiesFor for a proxy user name and an IPv4 address already parsed to a number. */
  policiesForUserIpv4(user: string, address: number): number[] {
    return this.combine(this.userPolicies(user), this.networksForIpv4(address));
  }

  /** The policies that apply to a request: the user's groups and every matching address range; else the defaults. */
  policiesFor(who: Who): number[] {
    const snap = this.snapshot;
    let networks = noPolicies;
    if (who.ip !== undefined && who.ip !== '') {
      // IPv4 (nearly every school network): a numeric cache, cheaper than hashing the string.
      const v4 = parseIpv4(who.ip);
      if (v4 !== -1) networks = this.networksForIpv4(v4 | 0);
      else {
        // Schools have a few thousand devices: remember each address's ranges (per snapshot).
        const cached = snap.byAddress.get(who.ip);
        if (cached) networks = cached;
        else {
          networks = networksOf(snap, who.ip);
          if (snap.byAddress.size >= 65_536) snap.byAddress.clear();
          snap.byAddress.set(who.ip, networks);
        }
      }
    }
    return this.combine(!who.user || who.user === '-' ? noPolicies : this.userPolicies(who.user), networks);
  }

  /** The policies of the address ranges an IPv4 address (as an int32) is in; empty when none. */
  private networksForIpv4(address: number): number[] {
    const snap = this.snapshot;
    // A small open-addressing cache on the address as an int32: no string, no allocation per request.
    const cache = snap.ipCache;
    let slot = Math.imul(address, 0x9e3779b1) >>> (32 - ipCacheBits);
    for (let probe = 0; probe < 8; probe += 1) {
      const index = cache.values[slot]!;
      if (index === 0) break;
      if (cache.keys[slot] === address) return cache.lists[index - 1]!;
      slot = (slot + 1) & (ipCacheSize - 1);
    }
    const unsigned = address >>> 0;
    const found = networksOf(snap, `${unsigned >>> 24}.${(unsigned >>> 16) & 255}.${(unsigned >>> 8) & 255}.${unsigned & 255}`);
    if (cache.lists.length >= ipCacheSize / 2) {
      // Full enough: start again (schools have thousands of devices, not hundreds of thousands).
      cache.values.fill(0);
      cache.lists.length = 0;
      slot = Math.imul(address, 0x9e3779b1) >>> (32 - ipCacheBits);
    }
    while (cache.values[slot] !== 0) slot = (slot + 1) & (ipCacheSize - 1);
    cache.keys[slot] = address;
    cache.lists.push(found);
    cache.values[slot] = cache.lists.length;
    return found;
  }

  /** A proxy user name's policies (empty when the name is not a known person's), remembered per snapshot. */
  private userPolicies(user: string): number[] {
    const snap = this.snapshot;
    let found = snap.byUser.get(user);
    if (found === undefined) {
      found = snap.users.get(user.toLowerCase());
      if (found === undefined && user.includes('%')) {
        try {
          found = snap.users.get(decodeURIComponent(user).toLowerCase());
        } catch {
          // A stray "%" that is not an escape: the name as logged did not match either.
        }
      }
      found ??= noPolicies;
      if (snap.byUser.size >= 65_536) snap.byUser.clear();
      snap.byUser.set(user, found);
    }
    return found;
  }

  /** A user's policies with their address ranges' (user's first); the defaults when neither has any. */
  private combine(user: number[], networks: number[]): number[] {
    if (user.length === 0) return networks.length > 0 ? networks : this.snapshot.defaultPolicies;
    if (networks.length === 0 || networks === user) return user;
    const unions = this.snapshot.unions;
    // Keyed by list identity; address ranges that overlap make new lists as addresses come and go.
    if (unions.size >= 65_536) unions.clear();
    let byNetworks = unions.get(user);
    if (!byNetworks) unions.set(user, (byNetworks = new Map<number[], number[]>()));
    let union = byNetworks.get(networks);
    if (!union) {
      if (byNetworks.size >= 4096) byNetworks.clear();
      byNetworks.set(networks, (union = [...new Set([...user, ...networks])]));
    }
    return union;
  }

  private localTime(now: number): void {
    const minute = Math.floor(now / 60_000);
    if (minute === this.clockMinute) return;
    this.clockMinute = minute;
    const parts = this.dayFormat.formatToParts(new Date(now));
    const weekday = parts.find((part) => part.type === 'weekday')?.value ?? 'Mon';
    this.localDay = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(weekday);
    this.localMinute = Number(parts.find((part) => part.type === 'hour')?.value ?? 0) * 60 + Number(parts.find((part) => part.type === 'minute')?.value ?? 0);
  }

  private categoryBlocked(policy: Policy, category: number, now: number): boolean {
    if (policy.blocked[category] !== 1) return false;
    for (const exception of policy.categoryExceptions) if (exception.category === category && exception.startsAt <= now && now < exception.endsAt) return false;
    if (policy.timeWindows.length > 0) {
      this.localTime(now);
      for (const window of policy.timeWindows)
        if (window.allow[category] === 1 && window.days.includes(this.localDay) && this.localMinute >= window.from && this.localMinute < window.to)
          return false;
    }
    return true;
  }

  /**
   * Decides one request. `url` is what the proxy saw: a full URL, or "host:port" for CONNECT.
   * `now` (epoch ms) decides which exceptions and time windows apply.
   */
  decide(who: Who, url: string, now: number = Date.now()): Decision {
    return this.decideFor(this.policiesFor(who), url, now);
  }

  /**
   * decideFor over bytes (the helpers' lines), for the common case — a plain lower-case host with no
   * URL entries and no search engine — without making a string; anything else is decided by
   * decideFor on the decoded URL, so both always agree.
   */
  decideBytes(policyIndexes: readonly number[], bytes: Uint8Array, start: number, end: number, now: number = Date.now()): Decision {
    return this.decideBytesAt(policyIndexes, bytes, start, end, now, true);
  }

  /**
   * decideBytes for a caller that has the host already (the monitoring pipeline): a block decided on
   * the byte path comes without `host`, which saves making a string for every blocked line.
   */
  classifyBytes(policyIndexes: readonly number[], bytes: Uint8Array, start: number, end: number, now: number): Decision {
    return this.decideBytesAt(policyIndexes, bytes, start, end, now, false);
  }

  private decideBytesAt(policyIndexes: readonly number[], bytes: Uint8Array, start: number, end: number, now: number, withHost: boolean): Decision {
    const snap = this.snapshot;
    if (snap.expressions.length > 0) return this.decideUtf8(policyIndexes, bytes, start, end, now);
    let hostStart: number;
    // CONNECT requests (most HTTPS through a proxy) arrive as "host:port", without a scheme.
    let connect = false;
    if (end - start > 7 && bytes[start + 4] === 58 && bytes[start + 5] === 47 && bytes[start + 6] === 47) hostStart = start + 7;
    else if (end - start > 8 && bytes[start + 5] === 58 && bytes[start + 6] === 47 && bytes[start + 7] === 47) hostStart = start + 8;
    else {
      hostStart = start;
      connect = true;
    }
    let hostEnd = hostStart;
    if (connect) {
      while (hostEnd < end && bytes[hostEnd] !== 58) hostEnd += 1;
      // Only "host:digits" exactly; anything else (a path, userinfo, IPv6) is left to the string path.
      if (hostEnd === end || hostEnd + 1 === end) return this.decideUtf8(policyIndexes, bytes, start, end, now);
      for (let i = hostEnd + 1; i < end; i += 1) if (bytes[i]! < 48 || bytes[i]! > 57) return this.decideUtf8(policyIndexes, bytes, start, end, now);
    } else while (hostEnd < end && bytes[hostEnd] !== 47) hostEnd += 1;
    if (hostEnd === hostStart) return this.decideUtf8(policyIndexes, bytes, start, end, now);
    const suffixHi = this.suffixHi;
    const suffixLo = this.suffixLo;
    let suffixes = 0;
    let a = seedA;
    let b = seedB;
    let previous = 46;
    for (let i = hostEnd - 1; i >= hostStart; i -= 1) {
      const code = bytes[i]!;
      if (code === 46) {
        if (previous === 46 || suffixes >= maxLabels - 1) return this.decideUtf8(policyIndexes, bytes, start, end, now);
        suffixHi[suffixes] = finish(a);
        suffixLo[suffixes] = finish(b);
        suffixes += 1;
      } else if (!((code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95))
        return this.decideUtf8(policyIndexes, bytes, start, end, now);
      previous = code;
      a = stepA(a, code);
      b = stepB(b, code);
    }
    if (previous === 46) return this.decideUtf8(policyIndexes, bytes, start, end, now);
    suffixHi[suffixes] = finish(a);
    suffixLo[suffixes] = finish(b);
    suffixes += 1;
    const hasWww =
      hostEnd - hostStart > 4 && bytes[hostStart] === 119 && bytes[hostStart + 1] === 119 && bytes[hostStart + 2] === 119 && bytes[hostStart + 3] === 46;
    const urlHostIndex = hasWww ? suffixes - 2 : suffixes - 1;
    const domains = snap.domains;
    const domainMatched = this.domainMatched;
    let found = 0;
    for (let s = 0; s < suffixes; s += 1) {
      const hi = suffixHi[s]!;
      const lo = suffixLo[s]!;
      if (!passes(domains, hi, lo)) break;
      const value = probe(domains, hi, lo);
      if (value === 0) continue;
      if ((value & 1) === 1 && s === urlHostIndex) return this.decideUtf8(policyIndexes, bytes, start, end, now); // URL entries under this host
      if (value >>> 1 !== 0) domainMatched[found++] = (value >>> 1) - 1;
    }
    // Search pages may need a SafeSearch rewrite for a SafeSearch group: leave them to the string path.
    // A CONNECT tunnel cannot be rewritten (SafeSearch over HTTPS is the DNS exports' job).
    if (!connect && mayRewriteBytes(bytes, hostStart, hostEnd, end) && this.anySafeSearch(policyIndexes))
      return this.decideUtf8(policyIndexes, bytes, start, end, now);
    const firstGroup = policyIndexes.length > 0 ? snap.policies[policyIndexes[0]!]!.group : 'none';
    if (found === 0) {
      for (let p = 0; p < policyIndexes.length; p += 1) {
        const policy = snap.policies[policyIndexes[p]!]!;
        if (policy.allowListOnly) {
          const verdict: Decision = { action: 'block', category: null, rule: 'walled-garden', group: policy.group, snapshot: snap.version };
          if (withHost) verdict.host = latin1(bytes, hostStart, hostEnd);
          return verdict;
        }
      }
      return policyIndexes.length > 0
        ? snap.policies[policyIndexes[0]!]!.allowDefault
        : { action: 'allow', category: null, rule: 'default', group: firstGroup, snapshot: snap.version };
    }
    const matched = this.matched;
    let count = 0;
    for (let f = found - 1; f >= 0; f -= 1) matched[count++] = domainMatched[f]!;
    const offsets = snap.setOffsets;
    const members = snap.setMembers;
    for (let m = 0; m < count; m += 1) {
      const set = matched[m]!;
      for (let k = offsets[set]!; k < offsets[set + 1]!; k += 1) {
        const tag = members[k]!;
        if (snap.tagKind[tag] === kindCategory && snap.illegal[snap.tagRef[tag]!] === 1) {
          const verdict: Decision = {
            action: 'block',
            category: snap.categoryCodes[snap.tagRef[tag]!]!,
            rule: 'illegal',
            group: firstGroup,
            snapshot: snap.version,
          };
          if (withHost) verdict.host = latin1(bytes, hostStart, hostEnd);
          return verdict;
        }
      }
    }
    let allowed: Decision | null = null;
    for (let p = 0; p < policyIndexes.length; p += 1) {
      const verdict = this.evaluate(snap.policies[policyIndexes[p]!]!, count, now);
      if (verdict.action === 'block') {
        if (withHost) verdict.host = latin1(bytes, hostStart, hostEnd);
        return verdict;
      }
      allowed ??= verdict;
    }
    return allowed ?? { action: 'allow', category: null, rule: 'no-policy', group: firstGroup, snapshot: snap.version };
  }

  /** The string path for a URL given as bytes (a method, not a closure made on every decision). */
  private decideUtf8(policyIndexes: readonly number[], bytes: Uint8Array, start: number, end: number, now: number): Decision {
    const url =
      bytes instanceof Buffer ? bytes.toString('utf8', start, end) : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
    return this.decideFor(policyIndexes, url, now);
  }

  decideFor(policyIndexes: readonly number[], url: string, now: number = Date.now()): Decision {
    const snap = this.snapshot;
    const firstGroup = policyIndexes.length > 0 ? snap.policies[policyIndexes[0]!]!.group : 'none';
    const suffixHi = this.suffixHi;
    const suffixLo = this.suffixLo;

    // The host runs from after "scheme://" to the first "/". The fast path hashes it right to left in
    // the same pass that checks it is already normal (lower-case letters, digits, "-", "_", single
    // dots); anything else — upper case, a port, userinfo, "?" or "#", IDN, a trailing dot — takes
    // the slow path through normaliseHost.
    let hostStart: number;
    if (url.charCodeAt(4) === 58 && url.charCodeAt(5) === 47 && url.charCodeAt(6) === 47)
      hostStart = 7; // http://
    else if (url.charCodeAt(5) === 58 && url.charCodeAt(6) === 47 && url.charCodeAt(7) === 47)
      hostStart = 8; // https://
    else {
      hostStart = url.indexOf('://');
      hostStart = hostStart === -1 ? 0 : hostStart + 3;
    }
    let hostEnd = url.indexOf('/', hostStart);
    if (hostEnd === -1) hostEnd = url.length;
    let text = url;
    let from = hostStart;
    let to = hostEnd;
    let host = '';
    let suffixes = 0;
    let simple = hostEnd > hostStart;
    let upper = false;
    let a = seedA;
    let b = seedB;
    let previous = 46;
    for (let i = hostEnd - 1; simple && i >= hostStart; i -= 1) {
      let code = url.charCodeAt(i);
      if (code === 46) {
        if (previous === 46 || suffixes >= maxLabels - 1) simple = false;
        suffixHi[suffixes] = finish(a);
        suffixLo[suffixes] = finish(b);
        suffixes += 1;
      } else if (code >= 65 && code <= 90) {
        // Upper case hashes as lower case; the host's text is lowered below.
        upper = true;
        code |= 32;
      } else if (!((code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95)) simple = false;
      previous = code;
      a = stepA(a, code);
      b = stepB(b, code);
    }
    if (simple && previous === 46) simple = false;
    if (simple && upper) {
      text = url.slice(hostStart, hostEnd).toLowerCase();
      from = 0;
      to = text.length;
      host = text;
    }
    if (!simple) {
      let end = hostStart;
      while (end < url.length) {
        const code = url.charCodeAt(end);
        if (code === 47 || code === 63 || code === 35) break;
        end += 1;
      }
      let authority = url.slice(hostStart, end);
      const at = authority.lastIndexOf('@');
      if (at !== -1) authority = authority.slice(at + 1);
      // Hosts needing this (IDN, ports, userinfo) repeat: remember their normal forms.
      let normal = this.normalHosts.get(authority);
      if (normal === undefined) {
        normal = normaliseHost(authority);
        if (this.normalHosts.size >= 10_000) this.normalHosts.clear();
        this.normalHosts.set(authority, normal);
      }
      if (!normal) return { action: 'block', category: null, rule: 'malformed', group: firstGroup, snapshot: snap.version, host: null };
      text = normal;
      from = 0;
      to = normal.length;
      hostEnd = end;
      host = normal;
      suffixes = 0;
      a = seedA;
      b = seedB;
      for (let i = to - 1; i >= 0; i -= 1) {
        const code = text.charCodeAt(i);
        if (code === 46 && suffixes < maxLabels - 1) {
          suffixHi[suffixes] = finish(a);
          suffixLo[suffixes] = finish(b);
          suffixes += 1;
        }
        a = stepA(a, code);
        b = stepB(b, code);
      }
    }
    suffixHi[suffixes] = finish(a);
    suffixLo[suffixes] = finish(b);
    suffixes += 1;

    // The URL host is the host without a leading "www.": the full host's key, or the one just below it.
    const hasWww =
      to - from > 4 &&
      text.charCodeAt(from) === 119 &&
      text.charCodeAt(from + 1) === 119 &&
      text.charCodeAt(from + 2) === 119 &&
      text.charCodeAt(from + 3) === 46;
    const urlHostIndex = hasWww ? suffixes - 2 : suffixes - 1;

    // Walk the host from its top label down; a suffix without a filter bit is neither an entry nor the
    // ancestor of one, so nothing below it can match (for most hosts: one look past the top label).
    // A value carries the label set (value >>> 1, 0 for none) and, in bit 0, "URL entries under this host".
    const domains = snap.domains;
    const domainMatched = this.domainMatched;
    let found = 0;
    let urlHost = false;
    for (let s = 0; s < suffixes; s += 1) {
      const hi = suffixHi[s]!;
      const lo = suffixLo[s]!;
      if (!passes(domains, hi, lo)) break;
      const value = probe(domains, hi, lo);
      if (value === 0) continue;
      if (value >>> 1 !== 0) domainMatched[found++] = (value >>> 1) - 1;
      if ((value & 1) === 1 && s === urlHostIndex) urlHost = true;
    }

    // Matched label sets, most specific first: URL prefixes (longest first), then domain suffixes.
    const matched = this.matched;
    let count = 0;
    if (urlHost) count = this.matchUrls(text, hasWww ? from + 4 : from, to, url, hostEnd, count);
    for (let f = found - 1; f >= 0; f -= 1) matched[count++] = domainMatched[f]!;
    // The slow path: regular expressions over host and path (bounded), only when nothing else matched.
    if (count === 0 && snap.expressions.length > 0) {
      const subject = `${text.slice(from, to)}${url.slice(hostEnd, hostEnd + maxExpressionSubject)}`;
      for (const expression of snap.expressions) if (count < matched.length && expression.regex.test(subject)) matched[count++] = expression.set;
    }

    if (count === 0) {
      for (let p = 0; p < policyIndexes.length; p += 1) {
        const policy = snap.policies[policyIndexes[p]!]!;
        if (policy.allowListOnly)
          return { action: 'block', category: null, rule: 'walled-garden', group: policy.group, snapshot: snap.version, host: host || text.slice(from, to) };
      }
      const first = policyIndexes.length > 0 ? snap.policies[policyIndexes[0]!]!.allowDefault : null;
      return this.allowed(policyIndexes, first, null, 'default', firstGroup, url, text, from, to);
    }

    const offsets = snap.setOffsets;
    const members = snap.setMembers;
    // Illegal content: blocked for everyone, whatever the policy or exception.
    for (let m = 0; m < count; m += 1) {
      const set = matched[m]!;
      for (let k = offsets[set]!; k < offsets[set + 1]!; k += 1) {
        const tag = members[k]!;
        if (snap.tagKind[tag] === kindCategory && snap.illegal[snap.tagRef[tag]!] === 1)
          return {
            action: 'block',
            category: snap.categoryCodes[snap.tagRef[tag]!]!,
            rule: 'illegal',
            group: firstGroup,
            snapshot: snap.version,
            host: host || text.slice(from, to),
          };
      }
    }

    let allowed: Decision | null = null;
    for (let p = 0; p < policyIndexes.length; p += 1) {
      const policy = snap.policies[policyIndexes[p]!]!;
      const verdict = this.evaluate(policy, count, now);
      if (verdict.action === 'block') {
        verdict.host = host || text.slice(from, to);
        return verdict;
      }
      allowed ??= verdict;
    }
    if (!allowed) return { action: 'allow', category: null, rule: 'no-policy', group: firstGroup, snapshot: snap.version };
    return this.allowed(policyIndexes, allowed, allowed.category, allowed.rule, allowed.group, url, text, from, to);
  }

  /** Whether any of the policies enforces SafeSearch. */
  private anySafeSearch(policyIndexes: readonly number[]): boolean {
    const policies = this.snapshot.policies;
    for (let p = 0; p < policyIndexes.length; p += 1) if (policies[policyIndexes[p]!]!.safeSearch) return true;
    return false;
  }

  /** An allowed request: the shared answer, or (for SafeSearch groups on a search page) a rewrite. */
  private allowed(
    policyIndexes: readonly number[],
    shared: Decision | null,
    category: string | null,
    rule: string,
    group: string,
    url: string,
    text: string,
    from: number,
    to: number,
  ): Decision {
    const snap = this.snapshot;
    const answer = shared ?? { action: 'allow', category, rule, group, snapshot: snap.version };
    if (!isSearchHost(text, from, to) || !this.anySafeSearch(policyIndexes)) return answer;
    // A CONNECT request ("host:443", no scheme) is a tunnel: there is no URL to rewrite.
    if (!url.includes('://')) return answer;
    const host = text.slice(from, to);
    for (const engine of safeSearchParams) {
      if (!engine.host.test(host)) continue;
      const pathStart = url.indexOf('/', url.indexOf('://') + 3);
      const path = pathStart === -1 ? '/' : url.slice(pathStart);
      if (!path.startsWith(engine.path) || path.includes(engine.param)) return answer;
      return { ...answer, host, rule: `${rule}+safesearch`, rewriteUrl: `${url}${url.includes('?') ? '&' : '?'}${engine.param}` };
    }
    return answer;
  }

  private matchUrls(hostText: string, hostFrom: number, hostTo: number, url: string, pathStart: number, count: number): number {
    const snap = this.snapshot;
    let a = seedA;
    let b = seedB;
    for (let i = hostFrom; i < hostTo; i += 1) {
      const code = hostText.charCodeAt(i);
      a = stepA(a, code);
      b = stepB(b, code);
    }
    const keysHi = this.urlKeysHi;
    const keysLo = this.urlKeysLo;
    let keys = 0;
    keysHi[keys] = finish(a);
    keysLo[keys] = finish(b);
    keys += 1;
    let end = url.length;
    const hash = url.indexOf('#', pathStart);
    if (hash !== -1) end = hash;
    for (let i = pathStart; i < end && keys < 255; i += 1) {
      const code = url.charCodeAt(i);
      if ((code === 47 || code === 63) && i > pathStart) {
        keysHi[keys] = finish(a);
        keysLo[keys] = finish(b);
        keys += 1;
      }
      a = stepA(a, code);
      b = stepB(b, code);
    }
    if (end > pathStart) {
      keysHi[keys] = finish(a);
      keysLo[keys] = finish(b);
      keys += 1;
    }
    for (let k = keys - 1; k >= 0; k -= 1) {
      const value = lookup(snap.urls, keysHi[k]!, keysLo[k]!);
      if (value >>> 1 !== 0) this.matched[count++] = (value >>> 1) - 1;
    }
    return count;
  }

  private evaluate(policy: Policy, count: number, now: number): Decision {
    const snap = this.snapshot;
    const offsets = snap.setOffsets;
    const members = snap.setMembers;
    const matched = this.matched;
    const version = snap.version;
    if (policy.denyTag >= 0) {
      for (let m = 0; m < count; m += 1) {
        const set = matched[m]!;
        for (let k = offsets[set]!; k < offsets[set + 1]!; k += 1)
          if (members[k] === policy.denyTag) return { action: 'block', category: null, rule: 'deny-list', group: policy.group, snapshot: version };
      }
    }
    for (let m = 0; m < count; m += 1) {
      const set = matched[m]!;
      for (let k = offsets[set]!; k < offsets[set + 1]!; k += 1) {
        const tag = members[k]!;
        if (tag === policy.allowTag) return { action: 'allow', category: null, rule: 'allow-list', group: policy.group, snapshot: version };
        if (snap.tagKind[tag] === kindException) {
          const exception = snap.exceptions[snap.tagRef[tag]!]!;
          if (exception.group === policy.group && exception.startsAt <= now && now < exception.endsAt)
            return { action: 'allow', category: null, rule: `exception:${exception.id}`, group: policy.group, snapshot: version };
        }
      }
    }
    // The most specific entry with a category decides the category.
    for (let m = 0; m < count; m += 1) {
      const set = matched[m]!;
      let first = -1;
      for (let k = offsets[set]!; k < offsets[set + 1]!; k += 1) {
        const tag = members[k]!;
        if (snap.tagKind[tag] !== kindCategory) continue;
        const category = snap.tagRef[tag]!;
        if (this.categoryBlocked(policy, category, now))
          return { action: 'block', category: snap.categoryCodes[category]!, rule: 'category', group: policy.group, snapshot: version };
        if (first === -1) first = category;
      }
      if (first !== -1) {
        if (policy.allowListOnly)
          return { action: 'block', category: snap.categoryCodes[first]!, rule: 'walled-garden', group: policy.group, snapshot: version };
        return (policy.allowByCategory[first] ??= Object.freeze<Decision>({
          action: 'allow',
          category: snap.categoryCodes[first]!,
          rule: 'category',
          group: policy.group,
          snapshot: version,
        }));
      }
    }
    if (policy.allowListOnly) return { action: 'block', category: null, rule: 'walled-garden', group: policy.group, snapshot: version };
    return policy.allowDefault;
  }

  /**
   * The block page address for a blocked request: a signed token carrying what was blocked and why
   * (host, category, rule, group, time) — no user name, address or full URL.
   */
  blockPageFor(decision: Decision, now: number = Date.now()): string {
    const snap = this.snapshot;
    // Signing costs microseconds and blocked hosts repeat: tokens are made once per minute per block.
    const minute = Math.floor(now / 60_000);
    if (minute !== snap.blockMinute || snap.blockPages.size > 50_000) {
      snap.blockPages.clear();
      snap.blockMinute = minute;
    }
    const key = `${decision.host ?? ''} ${decision.category ?? ''} ${decision.rule} ${decision.group}`;
    const cached = snap.blockPages.get(key);
    if (cached) return cached;
    // Tab-separated fields (none can hold a tab): host, category, rule, group, snapshot, time (s).
    const payload = Buffer.from(
      `${decision.host ?? ''}\t${decision.category ?? ''}\t${decision.rule}\t${decision.group}\t${decision.snapshot}\t${minute * 60}`,
    ).toString('base64url');
    const signature = signToken(snap.blockTokenKey, payload);
    const address = `${snap.blockPageUrl}${snap.blockPageUrl.includes('?') ? '&' : '?'}t=${payload}.${signature}`;
    snap.blockPages.set(key, address);
    return address;
  }
}

/**
 * The block-page token's signature: keyed BLAKE2b (the key as a prefix; BLAKE2 admits no length
 * extension), truncated to 192 bits. A one-shot hash costs a third of an HMAC object, and the rewrite
 * helper signs every blocked request.
 */
function signToken(key: string, payload: string): string {
  return hash('blake2b512', `${key}\n${payload}`, 'base64url').slice(0, 32);
}

/** Checks a block-page token and returns what it carries, or null when tampered with. */
export function readBlockToken(
  token: string,
  key: string,
): { host: string | null; category: string | null; rule: string; group: string; snapshot: string; at: number } | null {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = token.slice(0, dot);
  const expected = Buffer.from(signToken(key, payload));
  const given = Buffer.from(token.slice(dot + 1));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const fields = Buffer.from(payload, 'base64url').toString('utf8').split('\t');
  if (fields.length !== 6) return null;
  const [host = '', category = '', rule = '', group = '', snapshot = '', at = '0'] = fields;
  return { host: host || null, category: category || null, rule, group, snapshot, at: Number(at) * 1000 };
}
