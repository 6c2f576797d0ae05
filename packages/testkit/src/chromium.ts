import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// Headless Chromium for tests of what users see: Debian's chromium package driven by
// playwright-core (which never downloads a browser of its own). The flags keep it from calling
// home, which this machine's closed network would refuse many times a second; playwright gives
// every launch a fresh profile of its own.

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why Chromium cannot run here (for a test to skip or fail with), or undefined. */
export function chromiumProblem(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} is missing: apt-get install chromium (make setup does)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
