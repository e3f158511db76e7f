// The HTML report: rendered headless by Vega, opened from disk in a real browser (Debian chromium).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { renderReport } from '../packages/experiments/src/report/report.js';
import { summarize } from '../packages/experiments/src/train/experiment.js';
import { browserMissing, launch } from './helpers/browser.js';
import { cli, tempDir } from './helpers/cli.js';
import { results, riskCurve, run } from './helpers/results.js';

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
      '--epsilons',
      '0,0.1',
      '--seeds',
      '2',
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
    // One SVG per panel; 2 ε (0 and 0.1) and a temperature-scaled twin of each: 4
    // reliability panels, 4 histograms, 2 × 2 loss panels, 3 against ε, 2 projections, 2 test curves, and
    // the risk–coverage curves (the runs carry the calibration metrics' analysis): 20; and the
    // budget-matched run (ε = 0.1 on train ∪ validation): its reliability panel, histogram, 2 loss panels
    // and projection: 25.
    assert.equal(await page.locator('section svg.marks').count(), 25);
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

  it('at 1280 and 800 px nothing overflows horizontally and every data mark lies in its plot area', {
    skip: skip ?? false,
  }, async () => {
    const file = join(dir, 'full.html');
    writeFileSync(file, await renderReport(fullResults()));
    for (const [name, path] of [
      ['full', file],
      ['csv', join(dir, 'r', 'report.html')],
    ]) {
      for (const width of [1280, 800]) {
        const page = await browser!.newPage({ viewport: { width, height: 900 } });
        await page.goto(`file://${path}`);
        const g = await page.evaluate(geometry);
        assert.ok(g.scrollWidth <= g.clientWidth, `${name} at ${width}: page ${g.scrollWidth} px wide`);
        assert.deepEqual(g.wide, [], `${name} at ${width}: elements past the right edge`);
        assert.ok(g.charts >= 19, `${name}: ${g.charts} charts`);
        assert.ok(g.marks > 200, `${name}: ${g.marks} marks checked`);
        assert.deepEqual(g.outside, [], `${name} at ${width}: marks outside their plot area`);
        mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: join(OUT, `report-${name}-${width}.png`), fullPage: true });
        await page.close();
      }
    }
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
    // The reliability diagram, the confidence histogram and the risk–coverage curve.
    assert.equal(await page.locator('section svg.marks').count(), 3);
    // Every metric the command prints, with its bootstrap interval.
    const rows = await page.locator('tbody tr').allTextContents();
    for (const m of ['smooth ECE', 'classwise ECE', 'AURC', 'NLL', 'ECE (15 bins)'])
      assert.ok(
        rows.some((r) => r.startsWith(m) && /\[-?\d\.\d{4}, -?\d\.\d{4}\]/.test(r)),
        `${m} with its interval: ${rows.join(' | ')}`,
      );
    await page.screenshot({ path: join(OUT, 'evaluate-report.png'), fullPage: true });
    await page.close();
  });
});

/**
 * Geometry of a report in the page: page and element widths, and every SVG data mark (children of Vega's
 * role-mark groups) against its chart's plot area (the root frame's background), with 6 px for point
 * radii and strokes.
 */
function geometry() {
  const vw = document.documentElement.clientWidth;
  const wide: string[] = [];
  for (const el of Array.from(document.querySelectorAll('body *'))) {
    const r = el.getBoundingClientRect();
    const scroller = el.closest('.scroll');
    if (r.right > vw + 0.5 && !scroller)
      wide.push(`${el.tagName}.${el.getAttribute('class')} right ${r.right}`);
  }
  const outside: string[] = [];
  let marks = 0;
  const svgs = Array.from(document.querySelectorAll('section svg.marks'));
  for (const svg of svgs) {
    const frame = svg.querySelector('.role-frame.root > g > path.background');
    if (!frame) continue;
    const f = frame.getBoundingClientRect();
    const title = svg.querySelector('.role-title-text')?.textContent ?? '';
    for (const el of Array.from(svg.querySelectorAll('.role-mark > *'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      marks++;
      const tol = 6;
      if (
        r.left < f.left - tol ||
        r.right > f.right + tol ||
        r.top < f.top - tol ||
        r.bottom > f.bottom + tol
      )
        outside.push(
          `${title}: ${el.parentElement?.getAttribute('class')} [${r.left},${r.top},${r.right},${r.bottom}] vs [${f.left},${f.top},${f.right},${f.bottom}]`,
        );
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: vw,
    wide,
    charts: svgs.length,
    marks,
    outside: outside.slice(0, 10),
  };
}

/** A compare result with everything a report can show: 4 ε, 3 seeds, analyses, paired differences. */
function fullResults() {
  const analysis = (e: number) => ({
    smoothEce: {
      value: 0.05 + e,
      curve: Array.from({ length: 60 }, (_, i) => {
        const t = i / 59;
        return { t, accuracy: t * (1 - e) + e / 2, lo: Math.max(0, t - 0.1), hi: Math.min(1, t + 0.05) };
      }),
    },
    aurc: 0.05 + e / 10,
    riskCoverage: riskCurve(500, 0.15 + e),
    intervals: {
      accuracy: [0.8, 0.84] as [number, number],
      nll: [0.5, 0.6] as [number, number],
      ece: [0.04, 0.06] as [number, number],
      aurc: [0.04, 0.06] as [number, number],
    },
  });
  const runs = [];
  for (const seed of [1, 2, 3])
    for (const e of [0, 0.05, 0.1, 0.2])
      runs.push(
        run(e, seed, {
          analysis: analysis(e),
          nll: [0.6, 0.3, 0.1].map((x) => x + e),
          spread: [5, 8 - 20 * e, 12 - 50 * e],
          counts: [1, 0, 2, 5, 9, 20, 33, 50, 80, 100, 130, 150, 170, 250, 2000],
        }),
      );
  return results(summarize(runs), runs, [
    { a: 'ε=0', b: 'ε=0.1', seed: 1, differences: { ece: { difference: -0.03, interval: [-0.04, -0.02] } } },
  ]);
}
