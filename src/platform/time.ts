/** A London wall-clock "YYYY-MM-DDTHH:MM" (a datetime-local field) → an ISO instant; anything else is returned unchanged. */
export function londonInstant(local: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local)) return local;
  const asUtc = new Date(`${local}:00Z`);
  const offset =
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' })
      .formatToParts(asUtc)
      .find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const hours = Number(/GMT([+-]\d+)?/.exec(offset)?.[1] ?? 0);
  return new Date(asUtc.getTime() - hours * 3_600_000).toISOString();
}
