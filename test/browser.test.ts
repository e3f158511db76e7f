// labelsmooth/tfjs in a real browser (Debian chromium through playwright-core), cpu and wasm backends.
// The page and the wasm binaries are served from memory by request interception: no server is started.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, bundle, launch, servePage } from './helpers/browser.js';

const require = createRequire(import.meta.url);

const skip = browserMissing();

describe('labelsmooth/tfjs in chromium', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const js = await bundle(new URL('./browser/tfjs-entry.ts', import.meta.url).pathname);
    // crossEntropyAsync starts its Web Workers from ../kernels/browserWorker.js next to the core.
    const workerJs = await bundle(
      new URL('../packages/labelsmooth/src/kernels/browserWorker.ts', import.meta.url).pathname,
    );
    const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    browser = await launch();
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await servePage(page, 'http://labelsmooth.test', js, (path) => {
      if (path === '/kernels/browserWorker.js') return { contentType: 'text/javascript', body: workerJs };
      if (path.startsWith('/wasm/'))
        return { contentType: 'application/wasm', body: readFileSync(join(wasmDir, path.slice(6))) };
      return undefined;
    });
    await page.goto('http://labelsmooth.test/');
    await page
      .waitForFunction(() => typeof window.runAsync === 'function', undefined, { timeout: 10_000 })
      .catch(() => {
        throw new Error(`the test page did not load: ${errors.join('; ')}`);
      });
  });
  after(() => browser?.close());

  it('crossEntropyAsync splits a large batch across Web Workers and equals the reference', async () => {
    const r = (await page.evaluate(() => window.runAsync())) as Record<string, number>;
    assert.ok(r.workersMade >= 1, `workers: ${r.workersMade}`);
    assert.equal(r.denominator, r.refDenominator);
    assert.ok(Math.abs(r.loss - r.reference) <= 1e-5 * r.reference, `${r.loss} vs ${r.reference}`);
    assert.ok(r.maxGradDiff <= 1e-7, `grad diff ${r.maxGradDiff}`);
    assert.ok(r.maxRowDiff <= 1e-5, `row diff ${r.maxRowDiff}`);
    assert.deepEqual(errors, []);
  });

  it('crossEntropyAsync with the penalty and FLSD-53: the workers run the family kernel, entropy included', async () => {
    const r = (await page.evaluate(() => window.runAsync(true))) as Record<string, number>;
    assert.equal(r.path, 'workers');
    assert.ok(Math.abs(r.loss - r.reference) <= 1e-5 * Math.abs(r.reference), `${r.loss} vs ${r.reference}`);
    assert.ok(Math.abs(r.entropy - r.refEntropy) <= 1e-5 * r.refEntropy, `${r.entropy} vs ${r.refEntropy}`);
    assert.ok(r.maxGradDiff <= 1e-7, `grad diff ${r.maxGradDiff}`);
    assert.ok(r.maxRowDiff <= 1e-5, `row diff ${r.maxRowDiff}`);
    assert.deepEqual(errors, []);
  });

  it('crossEntropyAsync: rows the workers decline are recomputed on the page, and say so', async () => {
    const r = (await page.evaluate(() => window.runAsyncDeclined())) as {
      events: string[];
      path: string;
      maxRowDiff: number;
      maxGradDiff: number;
    };
    assert.deepEqual(r.events, ['rows-declined:3']);
    assert.equal(r.path, 'workers');
    assert.ok(r.maxRowDiff <= 1e-5, `row diff ${r.maxRowDiff}`);
    assert.ok(r.maxGradDiff <= 1e-6, `grad diff ${r.maxGradDiff}`);
    assert.deepEqual(errors, []);
  });

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
