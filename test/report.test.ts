// The HTML report: rendered headless by Vega, opened from disk in a real browser (Debian chromium).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserMissing, launch } from './helpers/browser.js';
import { cli, tempDir } from './helpers/cli.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const OUT = new URL('../test-output/', import.meta.url).pathname;

describe('report', () => {
  const dir = tempDir();
  const csv = join(dir, 'hostile "<i>data.csv');
  let browser: Browser | undefined;
  const skip = browserMissing();

  before(async () => {
    const lines = ['a,b,c,label'];
    const names = [HOSTILE, 'plain', '"><script>alert(2)</script>'];
    for (let i = 0; i < 300; i++) {
      const c = i % 3;
      lines.push(
        `${c + ((i * 37) % 11) / 11},${((i * 13) % 7) / 7 - c},${(i % 5) / 5},"${names[c].replace(/"/g, '""')}"`,
      );
    }
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const r = cli([
      'compare',
      '--dataset',
      `csv:${csv}`,
      '--epochs',
      '3',
      '--runs-dir',
      dir,
      '--name',
      'r',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    if (!skip) browser = await launch();
  });
  after(() => browser?.close());

  it('compare writes a self-contained report.html: no scripts, no external references', () => {
    const html = readFileSync(join(dir, 'r', 'report.html'), 'utf8');
    assert.ok(!/<script/i.test(html), 'the report must not contain scripts');
    assert.ok(!/(src|href)=["']?(https?:)?\/\//i.test(html), 'no external resources');
    assert.ok(!html.includes(HOSTILE), 'class names must be escaped');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  it('labelsmooth report regenerates it from results.json', () => {
    const file = join(dir, 'r', 'report.html');
    writeFileSync(file, 'stale');
    const r = cli(['report', join(dir, 'r')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(file, 'utf8'), /^<!doctype html>/);
    const bad = cli(['report', join(dir, 'nothing-here')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /nothing-here\/results\.json: cannot read results/);
  });

  it('opens in chromium with no console errors, all charts drawn, escaping intact', {
    skip: skip ?? false,
  }, async () => {
    const page = await browser!.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    let dialogs = 0;
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', async (d) => {
      dialogs++;
      await d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file://')) errors.push(`network request: ${r.url()}`);
    });
    await page.goto(`file://${join(dir, 'r', 'report.html')}`);
    assert.deepEqual(errors, []);
    assert.equal(dialogs, 0);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('body script').count(), 0);
    // 7 charts: reliability, histograms, 2 loss-part charts, test curves, projection.
    assert.equal(await page.locator('section svg.marks').count(), 6);
    // Reliability bars + histogram bars, projection points, epoch lines.
    assert.ok((await page.locator('.mark-rect path').count()) >= 10);
    assert.ok((await page.locator('.mark-symbol path').count()) >= 50);
    assert.ok((await page.locator('.mark-line path').count()) >= 6);
    const text = (await page.locator('body').textContent()) ?? '';
    assert.ok(text.includes(HOSTILE), 'the class name shows as text');
    const svgText = await page.locator('svg').allTextContents();
    assert.ok(svgText.join(' ').includes(HOSTILE), 'the class name shows in the chart legend');
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    await page.close();
  });

  it('evaluate writes a report too', { skip: skip ?? false }, async () => {
    const p = join(dir, 'p.json');
    const y = join(dir, 'y.json');
    writeFileSync(p, JSON.stringify(Array.from({ length: 50 }, (_, i) => [Math.sin(i), Math.cos(i), 0.3])));
    writeFileSync(y, JSON.stringify(Array.from({ length: 50 }, (_, i) => i % 3)));
    const r = cli(['evaluate', '--predictions', p, '--labels', y, '--runs-dir', dir, '--name', 'ev']);
    assert.equal(r.code, 0, r.stderr);
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${join(dir, 'ev', 'report.html')}`);
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('section svg.marks').count(), 2);
    await page.screenshot({ path: join(OUT, 'evaluate-report.png'), fullPage: true });
    await page.close();
  });
});
