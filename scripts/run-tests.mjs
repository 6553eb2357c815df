// Node 20's test runner takes no globs: find the test files, then hand them to `node --test`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const suites = {
  unit: { roots: ['src', 'test/integration'], concurrency: 2 },
  browser: { roots: ['test/browser'], concurrency: 1 },
  hard: { roots: ['test/hard'], concurrency: 1 },
};
const suite = suites[process.argv[2] ?? 'unit'];
if (!suite) {
  console.error(`Unknown suite ${process.argv[2]}: use ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
const only = process.argv.slice(3);

function find(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

let files = suite.roots.flatMap(find).sort();
if (only.length > 0) files = files.filter((file) => only.some((pattern) => file.includes(pattern)));
if (files.length === 0) {
  console.log(`No test files found for ${process.argv[2] ?? 'unit'}.`);
  process.exit(only.length > 0 ? 1 : 0);
}
if (!process.env.DATABASE_URL && suite !== suites.browser) {
  console.log('# PostgreSQL tests skipped: DATABASE_URL is not set (CI sets it; see .ci/run)');
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${suite.concurrency}`, '--test-reporter=spec', ...files.map((file) => relative(process.cwd(), file))],
  { stdio: 'inherit', env: { ...process.env, TZ: 'Europe/London', NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
