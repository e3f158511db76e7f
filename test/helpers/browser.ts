import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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

/**
 * Flags that bring up WebGPU and WebGL2 on SwiftShader (CPU-emulated Vulkan) in headless chromium, where
 * there is no GPU: WebGPU needs `--enable-unsafe-webgpu` (Linux) and the SwiftShader adapter, and Vulkan
 * enabled; ANGLE on SwiftShader serves WebGL.
 */
export const GPU_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Headless chromium with {@link GPU_FLAGS} on a fresh profile directory, removed by `close()`. */
export async function launchGpu(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'labelsmooth-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: GPU_FLAGS,
      timeout: 60_000,
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** `promise`, or a rejection naming `what` after `ms` (page.evaluate has no timeout of its own). */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One browser ES module bundled from a TypeScript entry, in memory. */
export async function bundle(entry: string): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

/** A file a test page serves besides its script. */
export interface Served {
  contentType: string;
  body: string | Buffer;
}

/**
 * Serve a page under `origin` from memory by request interception (no server is started): `/` is an HTML
 * page that loads `/app.js` as a module, `/app.js` is `app`, any other path what `more` gives for it
 * (undefined: 404).
 */
export async function servePage(
  page: Page,
  origin: string,
  app: string,
  more: (path: string) => Served | undefined = () => undefined,
): Promise<void> {
  await page.route(`${origin}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/')
      return route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><meta charset="utf-8"><script type="module" src="/app.js"></script>',
      });
    if (path === '/app.js') return route.fulfill({ contentType: 'text/javascript', body: app });
    const file = more(path);
    return file ? route.fulfill(file) : route.fulfill({ status: 404, body: '' });
  });
}
