// labelsmooth/tfjs in a real browser (Debian chromium through playwright-core), cpu and wasm backends.
// The page and the wasm binaries are served from memory by request interception: no server is started.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, launch } from './helpers/browser.js';

const require = createRequire(import.meta.url);
const skip = browserMissing();

describe('labelsmooth/tfjs in chromium', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const bundle = await esbuild.build({
      entryPoints: [new URL('./browser/tfjs-entry.ts', import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0].text;
    const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    browser = await launch();
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.route('http://labelsmooth.test/**', async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/')
        return route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><meta charset="utf-8"><script src="/app.js"></script>',
        });
      if (path === '/app.js') return route.fulfill({ contentType: 'text/javascript', body: js });
      if (path.startsWith('/wasm/')) {
        return route.fulfill({
          contentType: 'application/wasm',
          body: readFileSync(join(wasmDir, path.slice(6))),
        });
      }
      return route.fulfill({ status: 404, body: '' });
    });
    await page.goto('http://labelsmooth.test/');
  });
  after(() => browser?.close());

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: value and gradient equal the core; a model trains; no tensors leak`, async () => {
      const r = (await page.evaluate((b) => window.runLabelsmooth(b), backend)) as {
        backend: string;
        value: number;
        coreValue: number;
        grad: number[];
        coreGrad: number[];
        accuracy: number;
        leaked: number;
      };
      assert.equal(r.backend, backend);
      assert.ok(Math.abs(r.value - r.coreValue) <= 1e-6 * Math.abs(r.coreValue));
      r.grad.forEach((g, i) => {
        assert.ok(Math.abs(g - r.coreGrad[i]) <= 1e-6, `grad[${i}] ${g} vs ${r.coreGrad[i]}`);
      });
      assert.ok(r.accuracy >= 0.95, `accuracy ${r.accuracy}`);
      assert.equal(r.leaked, 0);
      assert.deepEqual(errors, []);
    });
  }
});
