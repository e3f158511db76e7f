// Every report kind laid out in a real browser (Debian chromium) at 1280 and 800 px: no table or title
// wider than its container or cut short, no two chart labels on top of each other. The reports are
// rendered from results built in memory (test/helpers/reportFixtures.ts), so no model is trained.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { renderReport } from '../packages/experiments/src/report/report.js';
import type { ReportInput } from '../packages/experiments/src/results/schema.js';
import { browserMissing, launch } from './helpers/browser.js';
import { tempDir } from './helpers/cli.js';
import { compareFixture, distillFixture, evaluateFixture, sweepFixture } from './helpers/reportFixtures.js';

const OUT = new URL('../test-output/', import.meta.url).pathname;
const WIDTHS = [1280, 800];
const KINDS: [string, () => ReportInput][] = [
  ['compare', compareFixture],
  ['sweep', sweepFixture],
  ['distill', distillFixture],
  ['evaluate', evaluateFixture],
];

describe('report layout in chromium', { skip: browserMissing() ?? false }, () => {
  const dir = tempDir();
  let browser: Browser | undefined;

  before(async () => {
    for (const [kind, make] of KINDS) writeFileSync(join(dir, `${kind}.html`), await renderReport(make()));
    browser = await launch();
  });
  after(() => browser?.close());

  for (const [kind] of KINDS)
    for (const width of WIDTHS)
      it(`${kind} at ${width} px: tables and titles fit, nothing is cut, no chart labels overlap`, async () => {
        const page = await browser!.newPage({ viewport: { width, height: 900 } });
        try {
          await page.goto(`file://${join(dir, `${kind}.html`)}`, { timeout: 15_000 });
          // tsx compiles with esbuild's keepNames: the function's inner helpers call __name.
          await page.evaluate('globalThis.__name = (f) => f');
          const g = await page.evaluate(layout);
          mkdirSync(OUT, { recursive: true });
          await page.screenshot({
            path: join(OUT, `layout-${kind}-${width}.png`),
            fullPage: true,
            timeout: 15_000,
          });
          assert.ok(g.tables > 0, `${kind}: no tables`);
          assert.ok(kind === 'evaluate' || g.charts >= 6, `${kind}: ${g.charts} charts`);
          assert.ok(g.texts > 20, `${kind}: ${g.texts} chart labels checked`);
          assert.equal(g.pageWidth, width, `${kind} at ${width}: the page scrolls sideways`);
          assert.deepEqual(
            { wideTables: g.wideTables, cut: g.cut, overlaps: g.overlaps },
            { wideTables: [], cut: [], overlaps: [] },
            `${kind} at ${width}: tables wider than their container, text cut short, or chart labels overlapping`,
          );
        } finally {
          await page.close();
        }
      });
});

/**
 * The layout of the report in the page. Tables: the table's own width and every scrolling ancestor's
 * scrollWidth against the content box they sit in (a table that needs a sideways scroll to be read is as
 * bad as one past the page edge). Cut text: headings, notes and cells whose content is wider than their
 * box, CSS text-overflow ellipses, Vega's truncation ellipsis "…" in SVG text, and SVG text outside its
 * chart. Overlaps: the bounding boxes of every two visible SVG texts of one chart, intersecting by more
 * than 1 px in both directions.
 */
function layout() {
  const name = (el: Element) =>
    `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 60)}"`;
  const wideTables: string[] = [];
  const tables = Array.from(document.querySelectorAll('table'));
  for (const t of tables) {
    const box = t.parentElement!;
    if (t.getBoundingClientRect().width > box.clientWidth + 0.5)
      wideTables.push(`${name(t)}: ${t.getBoundingClientRect().width} px in ${box.clientWidth} px`);
    for (let el: Element | null = t; el && el !== document.body; el = el.parentElement)
      if (el.scrollWidth > el.clientWidth + 0.5)
        wideTables.push(
          `${name(t)}: ${el.tagName.toLowerCase()}.${el.className} scrolls ${el.scrollWidth} in ${el.clientWidth}`,
        );
  }
  const cut: string[] = [];
  for (const el of Array.from(document.querySelectorAll('h1, h2, h3, p, li, th, td, caption, figcaption'))) {
    const s = getComputedStyle(el);
    if (el.scrollWidth > el.clientWidth + 0.5 && s.display !== 'inline')
      cut.push(`${name(el)}: ${el.scrollWidth} px of text in ${el.clientWidth} px`);
    if (s.textOverflow === 'ellipsis' && s.overflow !== 'visible')
      cut.push(`${name(el)}: text-overflow ellipsis`);
  }
  const visible = (el: Element) => {
    for (let e: Element | null = el; e && e.tagName.toLowerCase() !== 'svg'; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.opacity === '0' || s.display === 'none' || s.visibility === 'hidden') return false;
    }
    return (el.textContent ?? '').trim() !== '';
  };
  const overlaps: string[] = [];
  let texts = 0;
  const svgs = Array.from(document.querySelectorAll('section svg'));
  for (const svg of svgs) {
    const frame = svg.getBoundingClientRect();
    const boxes = Array.from(svg.querySelectorAll('text'))
      .filter(visible)
      .map((el) => ({ text: (el.textContent ?? '').trim(), r: el.getBoundingClientRect() }));
    texts += boxes.length;
    const chart = svg.querySelector('.role-title-text')?.textContent ?? `chart ${svgs.indexOf(svg)}`;
    for (const b of boxes) {
      if (b.text.includes('…')) cut.push(`${chart}: "${b.text}" truncated`);
      const r = b.r;
      if (
        r.left < frame.left - 1 ||
        r.right > frame.right + 1 ||
        r.top < frame.top - 1 ||
        r.bottom > frame.bottom + 1
      )
        cut.push(`${chart}: "${b.text}" outside the chart`);
    }
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r;
        const b = boxes[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) overlaps.push(`${chart}: "${boxes[i].text}" and "${boxes[j].text}"`);
      }
  }
  return {
    pageWidth: document.documentElement.scrollWidth,
    tables: tables.length,
    charts: svgs.length,
    texts,
    wideTables,
    cut: cut.slice(0, 20),
    overlaps: overlaps.slice(0, 20),
  };
}
