// End-to-end (the built CLI): what the command line and input files accept. `--train-size all` and
// `--test-size all` on every command that takes them; numeric flags within stated bounds; `.npy` dtypes
// that fit (float predictions, integer labels); `--resume` refusals that say what the run really has.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtCli, toyCsv } from './helpers/builtCli.js';
import { tempDir } from './helpers/cli.js';

function refusal(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

/** A .npy file (format 1.0) of `descr` (e.g. '|b1', '<i8', '<f8') written independently of the parser. */
function npy(shape: number[], bytes: Buffer, descr: string): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  let header = `${dict} `;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const pre = Buffer.from([
    0x93,
    0x4e,
    0x55,
    0x4d,
    0x50,
    0x59,
    1,
    0,
    header.length & 0xff,
    header.length >> 8,
  ]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), bytes]);
}

describe('--train-size all / --test-size all', () => {
  it('train, compare, sweep and distill use every row (90-row CSV: 72 train incl. validation, 18 test)', () => {
    const runs = tempDir();
    const data = toyCsv(join(runs, 'toy.csv'));
    const all = ['--train-size', 'all', '--test-size', 'all'];
    const d = ['--dataset', `csv:${data}`, '--epochs', '1', '--runs-dir', runs, '--quiet', ...all];
    const commands: Record<string, string[]> = {
      train: ['train', ...d],
      compare: ['compare', ...d, '--seeds', '1', '--epsilons', '0,0.1'],
      sweep: ['sweep', ...d, '--seeds', '1', '--epsilons', '0,0.1', '--workers', '1'],
      distill: ['distill', ...d, '--seeds', '1', '--student-epochs', '1'],
    };
    for (const [command, args] of Object.entries(commands)) {
      const r = builtCli([...args, '--name', command]);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      const res = JSON.parse(readFileSync(join(runs, command, 'results.json'), 'utf8'));
      assert.equal(res.dataset.train + (res.dataset.validation ?? 0), 72, command);
      assert.equal(res.dataset.test, 18, command);
    }
    // A derived name says `all` (the default train size is 10000 rows, not all).
    const named = builtCli(['train', ...d]);
    assert.equal(named.code, 0, named.stderr);
    const res = JSON.parse(readFileSync(join(runs, 'train-toy-epochs1-trainall', 'results.json'), 'utf8'));
    assert.equal(res.dataset.test, 18);
  });
});

describe('numeric flags have bounds', () => {
  it('a count beyond its bound is one line naming the flag, the bound and the value', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--epochs', '99999999999'], /'--epochs <n>' .*from 1 to 10000 .*got '99999999999'/],
      [['train', '--batch-size', '10000000'], /'--batch-size <n>' .*from 1 to 1000000/],
      [['train', '--seed', '4294967296'], /'--seed <n>' .*from 0 to 4294967295/],
      [['train', '--train-size', '1000000000'], /'--train-size <n>' .*from 1 to 100000000/],
      [['compare', '--seeds', '100000'], /'--seeds <n\|list>' .*from 1 to 1000/],
      [['distill', '--student-epochs', '20000'], /'--student-epochs <n>' .*from 1 to 10000/],
      [
        ['evaluate', '--predictions', 'p', '--labels', 'y', '--bins', '1000000'],
        /'--bins <n>' .*from 1 to 100000/,
      ],
      [
        ['evaluate', '--predictions', 'p', '--labels', 'y', '--ignore-index', '2147483648'],
        /from -2147483648 to 2147483647/,
      ],
      [['sweep', '--workers', '5000'], /'--workers <n>' .*from 1 to 1024/],
      [
        ['worker', '--queue', 'redis://127.0.0.1:1', '--lock-duration', '3000000000'],
        /from 100 to 2147483647/,
      ],
    ];
    for (const [args, pattern] of cases) refusal(builtCli(args), pattern);
  });
});

describe('.npy dtypes', () => {
  it('boolean or integer arrays are no predictions, float arrays no labels: the file and dtype are named', () => {
    const dir = tempDir();
    const n = 6;
    const k = 3;
    const bools = Buffer.from(Array.from({ length: n * k }, (_, i) => (i % 4 === 0 ? 1 : 0)));
    const labels = Buffer.alloc(8 * n);
    for (let i = 0; i < n; i++) labels.writeBigInt64LE(BigInt(i % k), 8 * i);
    const logits = Buffer.alloc(8 * n * k);
    for (let i = 0; i < n * k; i++) logits.writeDoubleLE(Math.sin(i) * 3, 8 * i);
    const floatLabels = Buffer.alloc(8 * n);
    for (let i = 0; i < n; i++) floatLabels.writeDoubleLE(i % k, 8 * i);
    const f = (name: string, b: Buffer) => {
      writeFileSync(join(dir, name), b);
      return join(dir, name);
    };
    const good = { p: f('p.npy', npy([n, k], logits, '<f8')), y: f('y.npy', npy([n], labels, '<i8')) };
    const ev = (p: string, y: string) =>
      builtCli(['evaluate', '--predictions', p, '--labels', y, '--runs-dir', join(dir, 'runs'), '--force']);
    refusal(
      ev(f('mask.npy', npy([n, k], bools, '|b1')), good.y),
      /mask\.npy: a boolean array cannot be predictions: they need a float dtype .*astype\(np\.float32\)/,
    );
    refusal(
      ev(f('counts.npy', npy([n, k], labels.subarray(0, n * k), '|u1')), good.y),
      /counts\.npy: dtype u1 cannot be predictions/,
    );
    refusal(
      ev(good.p, f('yf.npy', npy([n], floatLabels, '<f8'))),
      /yf\.npy: dtype f8 cannot be labels: they need an integer dtype .*astype\(np\.int64\)/,
    );
    const ok = ev(good.p, good.y);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('--resume refusals say what the run has', () => {
  it('an unset --loss or --label-column is "none", an unset size "all"', () => {
    const runs = tempDir();
    const data = toyCsv(join(runs, 'toy.csv'));
    const base = [
      'train',
      '--dataset',
      `csv:${data}`,
      '--epochs',
      '1',
      '--runs-dir',
      runs,
      '--name',
      'r',
      '--quiet',
    ];
    const first = builtCli(base);
    assert.equal(first.code, 0, first.stderr);
    rmSync(join(runs, 'r', 'results.json'));
    const r = builtCli([
      ...base,
      '--resume',
      '--loss',
      'focal',
      '--label-column',
      'label',
      '--test-size',
      '9',
    ]);
    refusal(
      r,
      /these differ: --loss focal \(the run has none: label smoothing with --epsilon\), --label-column label \(the run has none: 'label', else the last column\), --test-size 9 \(the run has all\)/,
    );
    assert.doesNotMatch(r.stderr, /--loss focal \(the run has all\)/);
  });
});
