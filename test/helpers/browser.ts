import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why browser tests cannot run here, or null. CI (.ci/run) installs Debian's chromium and sets
 * LABELSMOOTH_REQUIRE_BROWSER=1, which turns a missing browser into a failure instead of a skip.
 */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.LABELSMOOTH_REQUIRE_BROWSER === '1')
    throw new Error(`${CHROMIUM} is required (apt-get install chromium)`);
  return `${CHROMIUM} not installed (apt-get install chromium)`;
}

/** Headless Debian chromium with the flags this closed network needs. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
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
