// `labelsmooth evaluate` against metrics computed independently here.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers/cli.js';

/** A .npy file (format 1.0, little-endian float32 or int64), written independently of the parser. */
function npy(shape: number[], values: number[], dtype: '<f4' | '<i8' | '<f8'): Buffer {
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const bytes = dtype === '<f4' ? 4 : 8;
  const body = Buffer.alloc(values.length * bytes);
  values.forEach((v, i) => {
    if (dtype === '<f4') body.writeFloatLE(v, i * 4);
    else if (dtype === '<f8') body.writeDoubleLE(v, i * 8);
    else body.writeBigInt64LE(BigInt(v), i * 8);
  });
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

/** Independent metrics: softmax, top-label confidence, 15 equal-width bins. */
function reference(logits: number[][], labels: number[]) {
  let acc = 0;
  let nll = 0;
  const bins = Array.from({ length: 15 }, () => ({ n: 0, ok: 0, conf: 0 }));
  logits.forEach((row, i) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    const q = e.map((v) => v / s);
    const conf = Math.max(...q);
    const ok = q.indexOf(conf) === labels[i] ? 1 : 0;
    acc += ok;
    nll -= Math.log(q[labels[i]]);
    const b = bins[Math.min(14, Math.max(0, Math.ceil(conf * 15) - 1))];
    b.n++;
    b.ok += ok;
    b.conf += conf;
  });
  const n = labels.length;
  const ece = bins.reduce((a, b) => a + (b.n ? Math.abs(b.ok - b.conf) / n : 0), 0);
  return { accuracy: acc / n, nll: nll / n, ece };
}

const N = 200;
const K = 4;
const logits = Array.from({ length: N }, (_, i) =>
  Array.from({ length: K }, (_, c) => Math.sin(i * 3.1 + c * 1.7) * 3 + (c === i % K ? 1.2 : 0)),
);
const labels = Array.from({ length: N }, (_, i) => (i % 5 === 0 ? (i + 1) % K : i % K));

describe('labelsmooth evaluate', () => {
  const expected = reference(logits, labels);
  const dir = tempDir();
  const files = {
    npy: [join(dir, 'p.npy'), join(dir, 'y.npy')],
    csv: [join(dir, 'p.csv'), join(dir, 'y.csv')],
    json: [join(dir, 'p.json'), join(dir, 'y.json')],
  };
  writeFileSync(files.npy[0], npy([N, K], logits.flat(), '<f8'));
  writeFileSync(files.npy[1], npy([N], labels, '<i8'));
  writeFileSync(files.csv[0], `${logits.map((r) => r.join(',')).join('\n')}\n`);
  writeFileSync(files.csv[1], `label\n${labels.join('\n')}\n`);
  writeFileSync(files.json[0], JSON.stringify(logits));
  writeFileSync(files.json[1], JSON.stringify(labels));

  for (const [fmt, [p, y]] of Object.entries(files)) {
    it(`reads .${fmt} logits and labels; metrics match an independent computation`, () => {
      const r = cli([
        'evaluate',
        '--predictions',
        p,
        '--labels',
        y,
        '--json',
        '--runs-dir',
        dir,
        '--name',
        fmt,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const res = JSON.parse(r.stdout);
      assert.equal(res.from, 'logits');
      assert.ok(Math.abs(res.report.accuracy - expected.accuracy) < 1e-12);
      assert.ok(Math.abs(res.report.nll - expected.nll) < 1e-9);
      assert.ok(Math.abs(res.report.ece - expected.ece) < 1e-9);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, fmt, 'results.json'), 'utf8')).report, res.report);
    });
  }

  it('detects probabilities (float32 .npy) and prints a table', () => {
    const probs = logits.map((row) => {
      const e = row.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    const p = join(dir, 'probs.npy');
    writeFileSync(p, npy([N, K], probs.flat(), '<f4'));
    const r = cli(['evaluate', '--predictions', p, '--labels', files.npy[1], '--runs-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /200 × 4 \(probs\)/);
    assert.match(r.stdout, new RegExp(`ECE \\(15 bins\\)\\s+${expected.ece.toFixed(4)}`));
  });

  it('bad input names the file and the row or line', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '0.1,0.2\n0.3,abc\n');
    let r = cli(['evaluate', '--predictions', bad, '--labels', files.csv[1], '--runs-dir', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bad\.csv:2: line 2, column 2: not a finite number/);
    r = cli(['evaluate', '--predictions', files.csv[0], '--labels', files.json[0], '--runs-dir', dir]);
    assert.match(r.stderr, /p\.json: expected one label per row, got 4 columns/);
    const short = join(dir, 'short.json');
    writeFileSync(short, '[0, 1, 2]');
    r = cli(['evaluate', '--predictions', files.csv[0], '--labels', short, '--runs-dir', dir]);
    assert.match(r.stderr, /short\.json: 3 labels for the 200 rows of .*p\.csv/);
    const range = join(dir, 'range.json');
    writeFileSync(range, JSON.stringify(labels.map((v, i) => (i === 7 ? 9 : v))));
    r = cli(['evaluate', '--predictions', files.csv[0], '--labels', range, '--runs-dir', dir]);
    assert.match(r.stderr, /range\.json: row 7: label 9 is not a class index in \[0, 4\)/);
    const corrupt = join(dir, 'corrupt.npy');
    writeFileSync(corrupt, npy([N, K], logits.flat(), '<f8').subarray(0, 500));
    r = cli(['evaluate', '--predictions', corrupt, '--labels', files.npy[1], '--runs-dir', dir]);
    assert.match(r.stderr, /corrupt\.npy: shape \(200, 4\) of f8 needs 6400 data bytes/);
    r = cli([
      'evaluate',
      '--predictions',
      join(dir, 'nope.npy'),
      '--labels',
      files.npy[1],
      '--runs-dir',
      dir,
    ]);
    assert.match(r.stderr, /nope\.npy: cannot read/);
    assert.notEqual(r.code, 0);
  });
});
