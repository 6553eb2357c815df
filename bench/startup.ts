/**
 * Startup benchmark: time from launching `node bin/haven.js serve` on an existing database
 * (the demo school, already migrated) to the first OK from /healthz. Needs `npm run build`.
 * Prints one JSON line of figures last.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { seedDemoSchool } from '../src/features/demo/seed.js';
import { createServices } from '../src/services.js';

const runs = Number(process.env.RUNS ?? 7);
const port = 3900 + Math.floor(Math.random() * 90);
const dataDir = mkdtempSync(join(tmpdir(), 'haven-bench-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  HAVEN_DATA_DIR: dataDir,
  PORT: String(port),
  NODE_ENV: 'production',
  HAVEN_SECRET: 'bench-secret-bench-secret-bench-secret-000',
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  LOG_LEVEL: 'warn',
};
delete env.DATABASE_URL;

const config = loadConfig(env);
const handle = openDatabase({ dataDir, databaseUrl: undefined });
await migrateToLatest(handle.db);
await seedDemoSchool(createServices({ config, handle }));
await handle.close();

async function once(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/haven.js', 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.ok) return performance.now() - started;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 20_000) throw new Error('Haven did not start within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const timings: number[] = [];
for (let i = 0; i < runs; i += 1) timings.push(await once());
rmSync(dataDir, { recursive: true, force: true });
timings.sort((a, b) => a - b);
const median = timings[Math.floor(timings.length / 2)]!;
console.log(
  `startup to first healthy answer over ${runs} runs: median ${median.toFixed(0)} ms (min ${timings[0]!.toFixed(0)}, max ${timings[timings.length - 1]!.toFixed(0)})`,
);
console.log(
  JSON.stringify({
    bench: 'startup',
    runs,
    median_ms: Math.round(median),
    min_ms: Math.round(timings[0]!),
    max_ms: Math.round(timings[timings.length - 1]!),
    target_ms: 2000,
  }),
);
