/**
 * The engine's 64-bit key for a host suffix or URL prefix, as two 32-bit halves. The running state is
 * fed characters from the END of the text backwards, so one pass over a host yields the key of every
 * suffix at a label boundary ("com", "example.com", "a.example.com"). The compiler hashes list
 * entries with the same function, so the two always agree.
 */

export const seedA = 0x811c9dc5;
export const seedB = 0x2545f491;

/** One step of both hash states for a character code. */
export function stepA(state: number, code: number): number {
  return Math.imul(state ^ code, 0x01000193);
}

export function stepB(state: number, code: number): number {
  return Math.imul((state ^ code) + 0x9e3779b9, 0x5bd1e995) ^ (state >>> 15);
}

/** Finalises a state into a well-spread key half (murmur3's fmix32). */
export function finish(state: number): number {
  let h = state;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The key of a whole string (hashed right to left), for the compiler and tests. */
export function keyOf(text: string): [number, number] {
  let a = seedA;
  let b = seedB;
  for (let i = text.length - 1; i >= 0; i -= 1) {
    const code = text.charCodeAt(i);
    a = stepA(a, code);
    b = stepB(b, code);
  }
  return [finish(a), finish(b)];
}

/** The key of a string hashed left to right: URL entries, whose prefixes at path boundaries are looked up. */
export function keyForward(text: string): [number, number] {
  let a = seedA;
  let b = seedB;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    a = stepA(a, code);
    b = stepB(b, code);
  }
  return [finish(a), finish(b)];
}

/*
 * Table layout shared by the compiler and the engine (snapshot format 2). The slot a key starts
 * probing at comes from the top 24 bits of its high half, scaled to the capacity (any size, so the
 * load factor stays near its target rather than doubling); the filter word from the top bits of the
 * low half; the three filter bits within that word from the low 15 bits of the high half.
 */

/** Load factor of the slot tables: a miss that passes the filter probes about 3 slots, a hit under 2. */
export const maxLoad = 0.6;
/** Filter bits per entry (rounded up to a power of two words): three bits set per key. */
export const filterBitsPerEntry = 12;

export function capacityFor(entries: number): number {
  return Math.max(1024, Math.ceil(entries / maxLoad));
}

/** Filter words for a table of `entries`: a power of two, at least 32. */
export function filterWordsFor(entries: number): number {
  let words = 32;
  while (words * 32 < entries * filterBitsPerEntry) words *= 2;
  return words;
}

/** The first slot to probe for a key whose high half is `hi` (capacity below 2^29). */
export function startSlot(hi: number, capacity: number): number {
  return ((hi >>> 8) * capacity * 5.960464477539063e-8) | 0; // × 2^-24
}

/** The filter bits of a key within its word. */
export function filterBits(hi: number): number {
  return (1 << (hi & 31)) | (1 << ((hi >>> 5) & 31)) | (1 << ((hi >>> 10) & 31));
}
