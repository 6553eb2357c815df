/** A fixed clock the test moves by hand. */
export function testClock(start = '2026-11-23T09:00:00.000Z') {
  let now = Date.parse(start);
  const clock = () => new Date(now);
  return Object.assign(clock, {
    advance(ms: number) {
      now += ms;
    },
    set(iso: string) {
      now = Date.parse(iso);
    },
  });
}

export type TestClock = ReturnType<typeof testClock>;
