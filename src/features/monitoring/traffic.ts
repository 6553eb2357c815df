/**
 * Allowed-traffic counts of one batch of log lines, per (subject-day, host), in flat typed arrays: a
 * school's day holds hundreds of thousands of such pairs, and a Map of objects per pair costs several
 * cache misses a line where this costs one. Subject-days, hosts, groups and categories are small
 * numbers the pipeline gives out; the table only counts.
 */
export class TrafficTable {
  /** [subject-day + 1, host, entry] per slot; subject-day + 1 = 0 marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  size = 0;
  subjectDay: Int32Array;
  host: Int32Array;
  group: Int32Array;
  category: Int32Array;
  allowed: Int32Array;
  blocked: Int32Array;

  /** `expected`: about how many entries the batch will hold (the last batch's size is a good guess). */
  constructor(expected = 0) {
    let entries = 1 << 11;
    while (entries < expected * 1.25) entries *= 2;
    this.slots = new Int32Array(entries * 2 * 3);
    this.mask = entries * 2 - 1;
    this.subjectDay = new Int32Array(entries);
    this.host = new Int32Array(entries);
    this.group = new Int32Array(entries);
    this.category = new Int32Array(entries);
    this.allowed = new Int32Array(entries);
    this.blocked = new Int32Array(entries);
  }

  /** The entry for a subject-day and host, or -1. */
  find(subjectDay: number, host: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashPair(subjectDay, host) & mask;
    for (;;) {
      const at = slot * 3;
      const key = slots[at]!;
      if (key === 0) return -1;
      if (key === subjectDay + 1 && slots[at + 1] === host) return slots[at + 2]!;
      slot = (slot + 1) & mask;
    }
  }

  /** Adds an entry (the pair must not be in the table yet); returns its index. */
  add(subjectDay: number, host: number, group: number, category: number, allowed: number, blocked: number): number {
    if (this.size === this.subjectDay.length) this.growEntries();
    if ((this.size + 1) * 2 > this.mask + 1) this.growSlots();
    const entry = this.size;
    this.size += 1;
    this.subjectDay[entry] = subjectDay;
    this.host[entry] = host;
    this.group[entry] = group;
    this.category[entry] = category;
    this.allowed[entry] = allowed;
    this.blocked[entry] = blocked;
    this.place(subjectDay, host, entry);
    return entry;
  }

  private place(subjectDay: number, host: number, entry: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashPair(subjectDay, host) & mask;
    while (slots[slot * 3] !== 0) slot = (slot + 1) & mask;
    slots[slot * 3] = subjectDay + 1;
    slots[slot * 3 + 1] = host;
    slots[slot * 3 + 2] = entry;
  }

  private growEntries(): void {
    const grow = (array: Int32Array) => {
      const bigger = new Int32Array(array.length * 2);
      bigger.set(array);
      return bigger;
    };
    this.subjectDay = grow(this.subjectDay);
    this.host = grow(this.host);
    this.group = grow(this.group);
    this.category = grow(this.category);
    this.allowed = grow(this.allowed);
    this.blocked = grow(this.blocked);
  }

  private growSlots(): void {
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(capacity * 3);
    this.mask = capacity - 1;
    for (let entry = 0; entry < this.size; entry += 1) this.place(this.subjectDay[entry]!, this.host[entry]!, entry);
  }
}

function hashPair(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** A subject (person or device) on one day. */
export interface SubjectDay {
  day: string;
  subject: string;
  personId: string | null;
}

/**
 * A batch's traffic counts as columns (typed arrays and string tables): what the ingest worker hands
 * to the storing thread without cloning an object per count. `order` lists the entries in the daily
 * table's key order (day, subject, host).
 */
export interface TrafficBatch {
  size: number;
  order: Int32Array;
  subjectDay: Int32Array;
  host: Int32Array;
  group: Int32Array;
  category: Int32Array;
  allowed: Int32Array;
  blocked: Int32Array;
  subjectDays: SubjectDay[];
  hosts: string[];
  /** Group codes and categories by number; 0 is "no category". */
  labels: Array<string | null>;
}

/** One count as a row: a subject's requests to one host on one day. */
export interface TrafficCount {
  day: string;
  /** "p:<person id>" or "ip:<client address>". */
  subject: string;
  personId: string | null;
  group: string;
  host: string;
  category: string | null;
  allowed: number;
  blocked: number;
}

/** The k-th count of a batch in key order, as one row. */
export function trafficRow(batch: TrafficBatch, k: number): TrafficCount {
  const entry = batch.order[k]!;
  const subjectDay = batch.subjectDays[batch.subjectDay[entry]!]!;
  return {
    day: subjectDay.day,
    subject: subjectDay.subject,
    personId: subjectDay.personId,
    group: batch.labels[batch.group[entry]!]!,
    host: batch.hosts[batch.host[entry]!]!,
    category: batch.labels[batch.category[entry]!] ?? null,
    allowed: batch.allowed[entry]!,
    blocked: batch.blocked[entry]!,
  };
}

/** Every count of a batch in key order. */
export function trafficRows(batch: TrafficBatch): TrafficCount[] {
  return Array.from({ length: batch.size }, (_, k) => trafficRow(batch, k));
}

/** The typed arrays' buffers, to transfer rather than copy between threads. */
export function trafficBuffers(batch: TrafficBatch): ArrayBuffer[] {
  return [batch.order, batch.subjectDay, batch.host, batch.group, batch.category, batch.allowed, batch.blocked].map((array) => array.buffer as ArrayBuffer);
}
