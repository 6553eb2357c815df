// Measurements for bench/filter.ts that must run in plain Node over the compiled engine (dist/),
// in a fresh process: `load SNAPSHOT` (time and resident memory of loading) and
// `decide SNAPSHOT REQUESTS` (in-process decisions per second, one core).
import { readFileSync } from 'node:fs';
import { FilterEngine, loadSnapshot } from '../dist/features/filtering/engine.js';

const [mode, snapshotPath, requestsPath] = process.argv.slice(2);

if (mode === 'load') {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const snapshot = loadSnapshot(readFileSync(snapshotPath));
  const engine = new FilterEngine(snapshot);
  const loadSeconds = (performance.now() - started) / 1000;
  // Touch every page of the tables, as a helper does after running a while.
  let sum = 0;
  for (const table of [snapshot.domains, snapshot.urls]) {
    for (let i = 0; i < table.slots.length; i += 1024) sum += table.slots[i];
    for (let i = 0; i < table.filter.length; i += 1024) sum += table.filter[i];
  }
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ loadSeconds, rssDelta: after - before, check: sum + engine.version.length }));
} else if (mode === 'decide') {
  const engine = new FilterEngine(loadSnapshot(readFileSync(snapshotPath)));
  const urls = [];
  const ips = [];
  // Each URL and address as its own string, as an HTTP API receives them from JSON.parse (slices
  // of one big string would make every character read go through an indirection).
  const text = readFileSync(requestsPath);
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf(10, start);
    const space = text.indexOf(32, start);
    const slash = text.indexOf(47, space);
    urls.push(text.toString('utf8', start, space));
    ips.push(text.toString('latin1', space + 1, slash));
    start = end === -1 ? text.length : end + 1;
  }
  const now = Date.now();
  const rates = [];
  let blocked = 0;
  for (let pass = 0; pass < 4; pass += 1) {
    blocked = 0;
    const started = performance.now();
    for (let i = 0; i < urls.length; i += 1) if (engine.decide({ ip: ips[i] }, urls[i], now).action === 'block') blocked += 1;
    rates.push(urls.length / ((performance.now() - started) / 1000));
  }
  // The first pass warms the engine up; report the median of the rest.
  const rest = rates.slice(1).sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ decisionsPerSecond: rest[Math.floor(rest.length / 2)], blockedShare: blocked / urls.length }));
} else if (mode === 'pipe') {
  // `pipe INPUT COMMAND ARGS…`: lines per second through a helper process, from the first byte
  // written to the last answer read, measured from this small process (the generator's large heap
  // would stall the pipes while it collects garbage).
  const [inputPath, command, ...args] = process.argv.slice(3);
  const { spawn } = await import('node:child_process');
  const input = readFileSync(inputPath);
  let expected = 0;
  for (let at = input.indexOf(10); at !== -1; at = input.indexOf(10, at + 1)) expected += 1;
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let answered = 0;
  let started = 0;
  child.stdout.on('data', (chunk) => {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) answered += 1;
    if (answered >= expected) {
      const seconds = (performance.now() - started) / 1000;
      child.kill();
      process.stdout.write(JSON.stringify({ linesPerSecond: expected / seconds }));
    }
  });
  child.on('exit', (code) => {
    if (answered < expected) {
      console.error(`${command} exited (${code}) after ${answered} of ${expected} answers`);
      process.exit(1);
    }
  });
  // Give the helper time to load its lists first, as Squid would.
  setTimeout(() => {
    started = performance.now();
    child.stdin.end(input);
  }, 1500);
} else {
  console.error('usage: filter-child.mjs load SNAPSHOT | decide SNAPSHOT REQUESTS | pipe INPUT COMMAND ARGS…');
  process.exit(2);
}
