import { createServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningHaven } from '../../src/server.js';
import { testSecret } from './app.js';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Browser journeys need Debian's Chromium; without it they are skipped with one visible line. */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  console.log(`# Browser journeys skipped: ${chromiumPath} not found (apt-get install chromium; .ci/run does this)`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A real Haven listening on a free port over a fresh SQLite database. */
export async function startTestServer(): Promise<RunningHaven & { cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-browser-'));
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HAVEN_SECRET: testSecret,
    HAVEN_DATA_DIR: dataDir,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  const running = await startServer(config, { logger: false });
  return {
    ...running,
    async cleanup() {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
