import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { keyForward, keyOf } from './hash.js';
import type { FilterModel } from './model.js';
import { magic, type CompiledException, type CompiledPolicy, type SectionRef, type SnapshotHeader, type TableRef, type TagDef } from './snapshot.js';

/** Load factor of the hash tables: low enough for short probes, high enough to stay compact. */
const maxLoad = 0.75;

function capacityFor(entries: number): number {
  let capacity = 1024;
  while (capacity * maxLoad < entries) capacity *= 2;
  return capacity;
}

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

/** An open-addressing table of 64-bit keys → label-set ids, filled as entries arrive. */
class KeyTable {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly values: Uint32Array;
  readonly mask: number;
  entries = 0;

  constructor(readonly capacity: number) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Adds a tag to the key's set (creating the entry when new). */
  add(key: [number, number], tag: number, sets: SetTable): void {
    const [hi, lo] = key;
    let slot = hi & this.mask;
    for (;;) {
      const value = this.values[slot]!;
      if (value === 0) {
        this.hi[slot] = hi;
        this.lo[slot] = lo;
        this.values[slot] = sets.singleton(tag) + 1;
        this.entries += 1;
        return;
      }
      if (this.hi[slot] === hi && this.lo[slot] === lo) {
        this.values[slot] = sets.withTag(value - 1, tag) + 1;
        return;
      }
      slot = (slot + 1) & this.mask;
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
  let urlCount = 0;
  for (const list of model.lists) {
    domainCount += list.domains.length;
    urlCount += list.urls.length;
  }
  for (const exception of model.exceptions) {
    if (exception.domain) domainCount += 1;
    if (exception.url) urlCount += 1;
  }

  const sets = new SetTable();
  const domains = new KeyTable(capacityFor(domainCount));
  const urls = new KeyTable(capacityFor(urlCount));
  const urlHosts = new KeyTable(capacityFor(urlCount));
  const addUrl = (entry: string, tag: number) => {
    urls.add(keyForward(entry), tag, sets);
    urlHosts.add(keyOf(urlHost(entry)), 0, sets);
  };
  for (const list of model.lists) {
    const tag = listTag.get(list.id)!;
    for (const domain of list.domains) domains.add(keyOf(domain), tag, sets);
    for (const url of list.urls) addUrl(url, tag);
  }
  model.exceptions.forEach((exception, index) => {
    const tag = exceptions[index]!.tag;
    if (exception.domain) domains.add(keyOf(exception.domain), tag, sets);
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
    hi: section(keys.hi),
    lo: section(keys.lo),
    values: section(keys.values),
    entries: keys.entries,
  });
  const header: SnapshotHeader = {
    format: 1,
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
    urlHosts: table(urlHosts),
    sets: { offsets: section(Uint32Array.from(offsets)), members: section(Uint16Array.from(members)), count: sets.sets.length },
    counts: { domains: domains.entries, urls: urls.entries },
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
