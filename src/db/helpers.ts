import { randomUUID } from 'node:crypto';

/** Record ids are random UUIDs made by Haven, so every dialect behaves alike. */
export function newId(): string {
  return randomUUID();
}

/** Timestamps are stored as ISO-8601 UTC text on every dialect; they sort as text. */
export function isoNow(clock: () => Date = () => new Date()): string {
  return clock().toISOString();
}

/** Flags are stored as 0/1 integers on every dialect. */
export function flag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}
