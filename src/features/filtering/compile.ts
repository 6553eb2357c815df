import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { capacityFor, filterBits, filterWordsFor, finish, keyForward, keyOf, seedA, seedB, startSlot, stepA, stepB } from './hash.js';
import type { FilterModel } from './model.js';
import {
  magic,
  snapshotFormat,
  type CompiledException,
  type CompiledPolicy,
  type SectionRef,
  type SnapshotHeader,
  type TableRef,
  type TagDef,
} from './snapshot.js';

/** Bounds on the regular-expression slow path (DESIGN.md: optional and bounded). */
export const maxExpressionLength = 500;
export const maxExpressions = 5000;

/** Interns label sets (sorted tag lists) so a domain in one list costs one small number. */
class SetTable {
  private readonly index = new Map<string, number>();
  readonly sets: number[][] = [];
  private readonly single: number[] = [];

  of(tags: number[]): number {
    const key = tags.join(',');
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(tags);
      this.index.set(key, id);
    }
    return id;
  }

  singleton(tag: number): number {
    return (this.single[tag] ??= this.of([tag]));
  }

  withTag(setId: number, tag: number): number {
    const tags = this.sets[setId]!;
    if (tags.includes(tag)) return setId;
    return this.of([...tags, tag].sort((a, b) => a - b));
  }
}

/** An open-addressing table of 64-bit keys → label-set ids, filled as entries arrive (layout in hash.ts). */
class KeyTable {
  /** [hi, lo, value] per slot. */
  readonly slots: Uint32Array;
  readonly filter: Uint32Array;
  readonly capacity: number;
  readonly filterShift: number;
  /** Slots taken during compilation (a slot's value is set just after it is claimed). */
  private readonly claimed: Uint8Array;
  entries = 0;

  /** `keys`: how many entries will be added at most (their ancestors add filter bits only, within the filter's rounding up). */
  constructor(keys: number) {
    this.capacity = capacityFor(keys);
    this.slots = new Uint32Array(this.capacity * 3);
    const words = filterWordsFor(keys);
    this.filter = new Uint32Array(words);
    this.filterShift = 32 - Math.log2(words);
    this.claimed = new Uint8Array(this.capacity);
  }

  /** Marks a key in the filter only: an ancestor of an entry, so lookups know to go deeper. */
  mark(hi: number, lo: number): void {
    const word = lo >>> this.filterShift;
    this.filter[word] = this.filter[word]! | filterBits(hi);
  }

  /** Adds a tag to the key's set (creating the entry when new). Values are (set + 1) << 1 | URL-host flag. */
  add(key: [number, number], tag: number, sets: SetTable): void {
    const slot = this.slotOf(key);
    const value = this.slots[slot + 2]!;
    const set = value >>> 1 === 0 ? sets.singleton(tag) : sets.withTag((value >>> 1) - 1, tag);
    this.slots[slot + 2] = ((set + 1) << 1) | (value & 1);
  }

  /** Marks a host as having URL entries (bit 0 of its value), creating an entry without a set if needed. */
  flagUrlHost(key: [number, number]): void {
    const slot = this.slotOf(key);
    this.slots[slot + 2] = this.slots[slot + 2]! | 1;
  }

  /** The slot (index of its first word) holding a key, claimed for it when new. */
  private slotOf(key: [number, number]): number {
    const [hi, lo] = key;
    this.mark(hi, lo);
    let slot = startSlot(hi, this.capacity);
    for (;;) {
      const at = slot * 3;
      if (this.claimed[slot] !== 1) {
        this.slots[at] = hi;
        this.slots[at + 1] = lo;
        this.claimed[slot] = 1;
        this.entries += 1;
        return at;
      }
      if (this.slots[at] === hi && this.slots[at + 1] === lo) return at;
      slot += 1;
      if (slot === this.capacity) slot = 0;
    }
  }
}

function urlHost(entry: string): string {
  const slash = entry.indexOf('/');
  return slash === -1 ? entry : entry.slice(0, slash);
}

export interface CompiledSnapshot {
  header: SnapshotHeader;
  /** The whole file: header and sections. */
  bytes: Buffer;
}

/**
 * Compiles a FilterModel (entries already normalised) into snapshot bytes.
 * `blockTokenKey` signs block-page tokens; the helper processes read it from the snapshot.
 */
export function compileSnapshot(model: FilterModel, options: { blockTokenKey: string; compiledAt?: string }): CompiledSnapshot {
  const categoryIndex = new Map(model.categories.map((category, index) => [category.code, index]));
  const tags: TagDef[] = model.categories.map((_, index) => ({ kind: 'category', ref: index }));
  const listTag = new Map<string, number>();
  for (const list of model.lists) {
    if (list.kind === 'category') {
      const index = categoryIndex.get(list.category ?? '');
      if (index === undefined) throw new Error(`List ${list.id} names an unknown category "${list.category ?? ''}"`);
      listTag.set(list.id, index);
    } else {
      listTag.set(list.id, tags.length);
      tags.push({ kind: list.kind, ref: list.id });
    }
  }
  const exceptions: CompiledException[] = model.exceptions.map((exception, index) => {
    const entry = exception.domain ?? exception.url;
    let tag = -1;
    if (entry) {
      tag = tags.length;
      tags.push({ kind: 'exception', ref: index });
    }
    const category = exception.category ? (categoryIndex.get(exception.category) ?? -2) : -1;
    if (category === -2) throw new Error(`Exception ${exception.id} names an unknown category "${exception.category ?? ''}"`);
    return { id: exception.id, group: exception.group, tag, category, startsAt: exception.startsAt, endsAt: exception.endsAt };
  });
  if (tags.length > 65_535) throw new Error('Too many lists and exceptions for one snapshot (65,535 at most)');

  let domainCount = 0;
  // URL hosts share the domain table (flagged), so they are counted there too.
  const urlHostSet = new Set<string>();
  let urlCount = 0;
  for (const list of model.lists) {
    domainCount += list.domains.length;
    urlCount += list.urls.length;
    for (const url of list.urls) urlHostSet.add(urlHost(url));
  }
  for (const exception of model.exceptions) {
    if (exception.domain) domainCount += 1;
    if (exception.url) {
      urlCount += 1;
      urlHostSet.add(urlHost(exception.url));
    }
  }
  domainCount += urlHostSet.size;

  const sets = new SetTable();
  const domains = new KeyTable(domainCount);
  const urls = new KeyTable(urlCount);
  // A domain's ancestors ("example.com" and "com" for "a.example.com") get filter bits, so the
  // engine can walk a host from its top label down and stop at the first suffix with no bit.
  const markAncestors = (domain: string) => {
    let a = seedA;
    let b = seedB;
    for (let i = domain.length - 1; i >= 0; i -= 1) {
      const code = domain.charCodeAt(i);
      if (code === 46) domains.mark(finish(a), finish(b));
      a = stepA(a, code);
      b = stepB(b, code);
    }
  };
  const addDomain = (domain: string, tag: number) => {
    markAncestors(domain);
    domains.add(keyOf(domain), tag, sets);
  };
  const addUrl = (entry: string, tag: number) => {
    urls.add(keyForward(entry), tag, sets);
    markAncestors(urlHost(entry));
    domains.flagUrlHost(keyOf(urlHost(entry)));
  };
  for (const list of model.lists) {
    const tag = listTag.get(list.id)!;
    for (const domain of list.domains) addDomain(domain, tag);
    for (const url of list.urls) addUrl(url, tag);
  }
  model.exceptions.forEach((exception, index) => {
    const tag = exceptions[index]!.tag;
    if (exception.domain) addDomain(exception.domain, tag);
    if (exception.url) addUrl(exception.url, tag);
  });

  const policies: CompiledPolicy[] = model.policies.map((policy) => ({
    group: policy.group,
    name: policy.name,
    blocked: policy.blockedCategories.map((code) => {
      const index = categoryIndex.get(code);
      if (index === undefined) throw new Error(`The ${policy.name} policy blocks an unknown category "${code}"`);
      return index;
    }),
    allowListOnly: policy.allowListOnly,
    safeSearch: policy.safeSearch,
    allowTag: policy.allowListId ? (listTag.get(policy.allowListId) ?? -1) : -1,
    denyTag: policy.denyListId ? (listTag.get(policy.denyListId) ?? -1) : -1,
    timeWindows: (policy.timeWindows ?? []).map((window) => ({
      days: [...window.days],
      from: window.from,
      to: window.to,
      allowCategories: window.allowCategories.map((code) => categoryIndex.get(code) ?? -1).filter((index) => index >= 0),
    })),
  }));

  // The regular-expression slow path: one alternation per list, bounded in size.
  const expressions: Array<{ set: number; pattern: string }> = [];
  let expressionCount = 0;
  for (const list of model.lists) {
    const valid = (list.expressions ?? []).filter((pattern) => {
      if (pattern.length === 0 || pattern.length > maxExpressionLength) return false;
      try {
        new RegExp(pattern);
        return true;
      } catch {
        return false;
      }
    });
    if (valid.length === 0) continue;
    expressionCount += valid.length;
    if (expressionCount > maxExpressions) throw new Error(`Too many regular expressions for one snapshot (${maxExpressions} at most)`);
    expressions.push({ set: sets.singleton(listTag.get(list.id)!), pattern: valid.map((pattern) => `(?:${pattern})`).join('|') });
  }

  // Lay out the sections.
  const offsets: number[] = [];
  const members: number[] = [];
  for (const set of sets.sets) {
    offsets.push(members.length);
    members.push(...set);
  }
  offsets.push(members.length);
  const buffers: Array<{ ref: SectionRef; data: ArrayBufferView }> = [];
  let cursor = 0;
  const section = (data: ArrayBufferView): SectionRef => {
    const ref = { offset: cursor, length: data.byteLength };
    buffers.push({ ref, data });
    cursor += Math.ceil(data.byteLength / 8) * 8;
    return ref;
  };
  const table = (keys: KeyTable): TableRef => ({
    capacity: keys.capacity,
    slots: section(keys.slots),
    filterBits: keys.filter.length * 32,
    filter: section(keys.filter),
    entries: keys.entries,
  });
  const header: SnapshotHeader = {
    format: snapshotFormat,
    version: model.version,
    compiledAt: options.compiledAt ?? new Date().toISOString(),
    timeZone: model.timeZone,
    categories: model.categories.map((category) => ({ code: category.code, name: category.name, illegal: category.illegal })),
    tags,
    policies,
    exceptions,
    networks: model.networks.map((network) => ({ cidr: network.cidr, groups: [...network.groups] })),
    users: Object.fromEntries(model.users.map((user) => [user.username.toLowerCase(), [...user.groups]])),
    defaultGroups: [...model.defaultGroups],
    blockPageUrl: model.blockPageUrl,
    blockTokenKey: options.blockTokenKey,
    domains: table(domains),
    urls: table(urls),
    sets: { offsets: section(Uint32Array.from(offsets)), members: section(Uint16Array.from(members)), count: sets.sets.length },
    counts: { domains: domains.entries, urls: urls.entries, expressions: expressionCount },
    expressions,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const start = Math.ceil((12 + headerBytes.length) / 8) * 8;
  const bytes = Buffer.alloc(start + cursor);
  bytes.write(magic, 0, 'latin1');
  bytes.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(bytes, 12);
  for (const { ref, data } of buffers) Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(bytes, start + ref.offset);
  return { header, bytes };
}

/** Writes a snapshot so readers see the old file or the new one, never half of one. */
export function writeSnapshotFile(path: string, bytes: Buffer): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o640);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
