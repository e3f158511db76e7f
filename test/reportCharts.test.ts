// The report's charts as data: one colour per meaning, the smooth curve only where it means something,
// labels placed apart, titles whole; the distill and evaluate reports carry their charts and intervals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { titleLines } from '../packages/experiments/src/report/charts.js';
import { distillReliability } from '../packages/experiments/src/report/distillCharts.js';
import { evaluateRows } from '../packages/experiments/src/report/evaluateReport.js';
import { tableGroups } from '../packages/experiments/src/report/html.js';
import { placeLabels } from '../packages/experiments/src/report/labelPlacement.js';
import { ALL_COLORS, PALETTE, RUN_COLORS, runStyles } from '../packages/experiments/src/report/palette.js';
import { renderReport } from '../packages/experiments/src/report/report.js';
import {
  effectiveExamples,
  MIN_EFFECTIVE_EXAMPLES,
  smoothSegments,
} from '../packages/experiments/src/report/smoothCurve.js';
import { compareFixture, distillFixture, evaluateFixture, smoothCurve } from './helpers/reportFixtures.js';

describe('report palette', () => {
  it('gives no two meanings the same colour', () => {
    assert.equal(new Set(ALL_COLORS.map((c) => c.toLowerCase())).size, ALL_COLORS.length);
  });

  it('gives every run a colour and dash pair of its own, past the colours too', () => {
    const runs = Array.from({ length: 23 }, (_, i) => `run ${i}`);
    const s = runStyles(runs);
    const looks = runs.map((_, i) => `${s.colors[i]} ${s.dashes[i].join(',')}`);
    assert.equal(new Set(looks).size, runs.length);
    assert.ok(s.colors.every((c) => (RUN_COLORS as readonly string[]).includes(c)));
  });

  it('every colour in every chart of every report comes from the palette', async () => {
    for (const r of [compareFixture(), distillFixture(), evaluateFixture()]) {
      const html = await renderReport(r);
      const used = new Set(
        [...html.matchAll(/(?:fill|stroke)="(#[0-9a-fA-F]{6})"/g)].map((m) => m[1].toLowerCase()),
      );
      // Vega's own neutrals: axes, grid, text, the view frame and white bar outlines.
      const neutral = [
        '#000000',
        '#ffffff',
        '#888888',
        '#cccccc',
        '#dddddd',
        '#333333',
        '#666666',
        '#444444',
      ];
      const stray = [...used].filter((c) => !ALL_COLORS.includes(c) && !neutral.includes(c));
      assert.deepEqual(stray, [], `${r.kind}: colours outside the palette`);
      assert.ok(!/#f58518/i.test(html) || r.kind !== 'evaluate' || html.includes(PALETTE.smoothAccuracy));
    }
  });
});

describe('smooth reliability curve', () => {
  const curve = smoothCurve(0.05);

  it('is not drawn below 1/K nor where fewer than the minimum of examples carry it', () => {
    const c = { classes: 10, examples: 10000, bandwidth: 0.023 };
    const segs = smoothSegments(curve, c);
    assert.ok(segs.length > 100);
    for (const s of segs) {
      assert.ok(s.t >= 0.1, `segment at ${s.t} below 1/K`);
      const p = curve.find((q) => q.t === s.t)!.density!;
      assert.ok(effectiveExamples(p, c) >= MIN_EFFECTIVE_EXAMPLES, `segment at ${s.t}`);
    }
    // The empty stretch below 0.2 (where the fixture swings 0.05 ↔ 0.85) is left out.
    assert.ok(segs.every((s) => s.t >= 0.2 - 1e-9));
    // With all 200 points dense and K = 2, everything from 0.5 up is drawn.
    const dense = curve.map((q) => ({ ...q, density: 1 }));
    const half = smoothSegments(dense, { classes: 2, examples: 10000, bandwidth: 0.05 });
    assert.equal(half.length, dense.filter((q) => q.t >= 0.5).length - 1);
  });

  it('fades with density like the bars (0.12 + 0.88·√(p/p_max))', () => {
    const segs = smoothSegments(curve, { classes: 10, examples: 10000, bandwidth: 0.023 });
    const alphas = segs.map((s) => s.alpha);
    assert.ok(Math.max(...alphas) <= 1 && Math.min(...alphas) >= 0.12);
    assert.ok(alphas[0] < alphas[alphas.length - 1], 'the sparse end is fainter');
  });

  it('effective examples: N·p·2σ√π', () => {
    assert.ok(
      Math.abs(effectiveExamples(1, { examples: 1000, bandwidth: 0.05 }) - 1000 * 0.1 * Math.sqrt(Math.PI)) <
        1e-9,
    );
    assert.equal(effectiveExamples(1e-9, {}), Number.POSITIVE_INFINITY);
  });
});

describe('chart labels and titles', () => {
  it('places two template labels a few pixels apart clear of each other', () => {
    // The real ε = 0 run's axes: the two templates 31 px apart.
    const frame = {
      x: [-10.5, 12] as [number, number],
      y: [-8, 8.5] as [number, number],
      width: 230,
      height: 230,
      fontSize: 10,
    };
    const pts = [
      { x: 0, y: 0, label: 'T-shirt/top' },
      { x: 2.95, y: 0, label: 'Trouser' },
      { x: 1.31, y: 2.47, label: 'Pullover' },
    ];
    const placed = placeLabels(pts, frame);
    // The fixed offsets of before put both on the same side of their crosses, overlapping.
    assert.notDeepEqual(
      [placed[0].align, placed[0].baseline, placed[0].dx, placed[0].dy],
      [placed[1].align, placed[1].baseline, placed[1].dx, placed[1].dy],
    );
  });

  it('breaks long titles instead of cutting them', () => {
    const lines = titleLines([
      'ε=0.05 + temperature scaling · ECE 0.0244 [0.0201, 0.0331] · smooth ECE 0.0239',
    ]);
    assert.ok(lines.length >= 3 && lines.every((l) => l.length <= 36), lines.join(' / '));
    assert.equal(
      lines.join(' ').replace(/ · /g, ' '),
      'ε=0.05 + temperature scaling ECE 0.0244 [0.0201, 0.0331] smooth ECE 0.0239',
    );
  });
});

describe('tables', () => {
  it('a wide table splits into groups that repeat the row names and drop no column', () => {
    const html = tableGroups(
      ['method', 'seeds', 'ECE', 'NLL', 'accuracy', 'extra'],
      [['baseline (ε = 0)', '3', '0.1030 ± 0.0122\n[0.097, 0.110]', '0.75', '0.80', 'x']],
      {
        keys: 2,
        groups: [
          { caption: 'Calibration', columns: ['NLL', 'ECE', 'T'] },
          { caption: 'Accuracy', columns: ['accuracy'] },
        ],
      },
    );
    const tables = html.split('<table>').slice(1);
    assert.equal(tables.length, 3);
    const heads = tables.map((t) => [...t.matchAll(/<th(?: class="k")?>(.*?)<\/th>/g)].map((m) => m[1]));
    assert.deepEqual(heads, [
      ['method', 'seeds', 'NLL', 'ECE'],
      ['method', 'seeds', 'accuracy'],
      ['method', 'seeds', 'extra'],
    ]);
    assert.match(tables[2], /<caption>Other metrics<\/caption>/);
    // The value, its sd and its interval can each take a line of their own; none breaks inside.
    assert.match(
      tables[0],
      /<span class="nw">0\.1030<\/span> <span class="nw">± 0\.0122<\/span><small>\[0\.097, 0\.110\]<\/small>/,
    );
    assert.match(tables[0], /baseline \(ε\u00a0=\u00a00\)/);
  });
});

describe('distill and evaluate reports', () => {
  it('distill: a reliability panel per teacher and student, and the metric charts', async () => {
    const r = distillFixture();
    assert.deepEqual(
      distillReliability(r).map((p) => p.label),
      ['teacher ε=0', 'teacher ε=0.1', 'student of ε=0', 'student of ε=0.1'],
    );
    const html = await renderReport(r);
    assert.equal(html.match(/<svg/g)?.length, 3 + 4 + 4);
    // Results without bins get no diagrams, and the report says why.
    for (const m of r.models) delete m.test.bins;
    assert.deepEqual(distillReliability(r), []);
    assert.match(await renderReport(r), /holds no reliability bins/);
  });

  it('evaluate: smooth ECE, classwise ECE and AURC with their intervals', async () => {
    const r = evaluateFixture();
    const rows = evaluateRows(r.report);
    for (const m of ['smooth ECE', 'classwise ECE', 'AURC', 'accuracy', 'NLL', 'Brier'])
      assert.match(rows.find((x) => x[0].startsWith(m))![2], /^\[\d\.\d{4}, \d\.\d{4}\]$/, m);
    const html = await renderReport(r);
    assert.ok(html.includes('95 % interval'));
    assert.equal(html.match(/<svg/g)?.length, 3);
    assert.ok(!html.includes('`'), 'no literal backticks');
  });

  it('compare: no literal backticks; commands are set as code', async () => {
    const html = await renderReport(compareFixture());
    const text = html.replace(/<[^>]+>/g, '');
    assert.ok(!text.includes('`'), 'a backtick is printed');
    assert.match(html, /<code>labelsmooth distill<\/code>/);
  });
});
