// The CLI's building blocks in-process: option parsers, run names, locks, interrupted-write recovery,
// run-directory decisions, line widths, ETA.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { epochLine, wrapParts } from '../packages/experiments/src/cli/epochLine.js';
import { errorLine, resumableWriteError } from '../packages/experiments/src/cli/errorLine.js';
import { acquireLock } from '../packages/experiments/src/cli/lock.js';
import { deriveRunName } from '../packages/experiments/src/cli/naming.js';
import { dataset, float, int, seeds } from '../packages/experiments/src/cli/options.js';
import { eta, formatDuration } from '../packages/experiments/src/cli/progress.js';
import { resultsProblem } from '../packages/experiments/src/cli/results.js';
import { openRunDir } from '../packages/experiments/src/cli/runDir.js';
import { resumeConflicts } from '../packages/experiments/src/cli/train.js';
import { UsageError } from '../packages/experiments/src/cli/usage.js';
import { DataFileError } from '../packages/experiments/src/data/errors.js';
import {
  namePath,
  recoverLeftovers,
  type WriteError,
  writeDirAtomic,
  writeFileAtomic,
} from '../packages/experiments/src/train/files.js';
import { claim, MANIFEST } from '../packages/experiments/src/train/manifest.js';
import type { EpochMetrics } from '../packages/experiments/src/train/trainer.js';
import { tempDir } from './helpers/cli.js';

const refused = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: Error) => e instanceof InvalidArgumentError && re.test(e.message));

describe('cli option parsers', () => {
  it('numbers are read strictly: no hex, exponents, blanks or fractions where a count is expected', () => {
    assert.equal(int(1, 100)('16'), 16);
    for (const v of ['0x10', '1e3', ' 7', '', '1.5', '-3', '+2', '0b1'])
      refused(() => int(1, 100)(v), /whole number/);
    refused(() => int(1, 100)('0'), /from 1 to 100/);
    assert.equal(int(1, 100)('100'), 100);
    refused(() => int(1, 100)('101'), /whole number from 1 to 100 \(digits only\), got '101'/);
    assert.equal(float(0, 1)('0.1'), 0.1);
    assert.equal(float(0, 10)('1e-3'), 0.001);
    for (const v of ['0x1', '', ' ', 'Infinity', '1.5', 'NaN']) refused(() => float(0, 1)(v), /number in/);
  });

  it('--seeds: a repeated seed is refused (it would be one run counted twice, ± 0)', () => {
    assert.deepEqual(seeds('3'), [1, 2, 3]);
    assert.deepEqual(seeds('7,11'), [7, 11]);
    refused(() => seeds('1,1'), /seed 1 appears twice/);
    refused(() => seeds('2,5,2'), /seed 2 appears twice/);
  });

  it('--dataset: typos get a suggestion, csv: needs a path and the lower-case prefix', () => {
    assert.equal(dataset('mnist'), 'mnist');
    assert.equal(dataset('csv:a/b.csv'), 'csv:a/b.csv');
    refused(() => dataset('mnsit'), /did you mean mnist\?/);
    refused(() => dataset('fashion_mnist'), /did you mean fashion-mnist\?/);
    refused(() => dataset('CSV:x.csv'), /lower case: csv:x\.csv/);
    refused(() => dataset('csv:'), /csv: needs a path/);
    refused(() => dataset('x.csv'), /needs the csv: prefix: csv:x\.csv/);
    refused(() => dataset('imagenet'), /unknown dataset \(expected mnist, fashion-mnist or csv:PATH\)/);
  });
});

describe('run names', () => {
  const defaults = {
    epsilons: [0, 0.1],
    seeds: [1],
    noise: 'uniform',
    epochs: 12,
    trainSize: 10000,
    json: false,
  };
  const name = (values: Record<string, unknown>, subject = 'mnist') =>
    deriveRunName('compare', subject, { ...defaults, ...values }, defaults);

  it('come from the options that differ from the defaults, so that variants never share a directory', () => {
    assert.equal(name({}), 'compare-mnist');
    assert.equal(
      name({ epsilons: [0, 0.05, 0.1, 0.2], seeds: [1, 2, 3] }),
      'compare-mnist-eps0_0.05_0.1_0.2-seeds3',
    );
    assert.equal(name({ noise: 'non-target' }), 'compare-mnist-non-target');
    assert.equal(name({ seeds: [7, 11], trainSize: undefined }), 'compare-mnist-seeds7_11-trainall');
    assert.equal(name({ json: true }), 'compare-mnist', 'output options do not change the run');
    assert.equal(name({}, 'toy'), 'compare-toy');
    const names = [
      name({}),
      name({ epsilons: [0, 0.05, 0.1, 0.2] }),
      name({ seeds: [1, 2, 3] }),
      name({ noise: 'non-target' }),
      name({ noise: 'prior' }),
      name({ epochs: 3 }),
    ];
    assert.equal(new Set(names).size, names.length);
  });

  it('stay short: a long one keeps its start and a hash of the whole', () => {
    const long = name({ epsilons: Array.from({ length: 30 }, (_, i) => i / 100) });
    assert.ok(long.length <= 64, long);
    assert.match(long, /^compare-mnist-eps0_0\.01.*-[0-9a-f]{8}$/);
    assert.notEqual(long, name({ epsilons: Array.from({ length: 31 }, (_, i) => i / 100) }));
    assert.match(long, /^[\w.-]+$/);
  });
});

describe('run directories', () => {
  it('a finished or started run is refused without --force; --force removes only the run files', () => {
    const root = tempDir();
    const dir = join(root, 'r');
    mkdirSync(dir);
    const files = ['config.json', 'results.json', 'report.html', 'model/model.json'];
    claim(dir, files);
    mkdirSync(join(dir, 'model'));
    for (const f of files) writeFileSync(join(dir, f), '{}');
    assert.throws(
      () => openRunDir(root, 'r', { mode: 'new' }),
      (e: Error) => e instanceof UsageError && /already holds a finished run.*--force/.test(e.message),
    );
    // A file the run did not write refuses the directory, even with --force, and stays.
    writeFileSync(join(dir, 'model', 'notes.txt'), 'mine');
    assert.throws(
      () => openRunDir(root, 'r', { mode: 'new', force: true }),
      (e: Error) =>
        e instanceof UsageError &&
        /r holds model\/notes\.txt, which labelsmooth did not write/.test(e.message),
    );
    assert.equal(readFileSync(join(dir, 'model', 'notes.txt'), 'utf8'), 'mine');
    renameSync(join(dir, 'model', 'notes.txt'), join(root, 'notes.txt'));
    const run = openRunDir(root, 'r', { mode: 'new', force: true });
    run.release();
    // The old report is gone with the old results: never beside a new config.json.
    assert.deepEqual(readdirSync(dir).sort(), [MANIFEST]);
    claim(dir, ['config.json']);
    writeFileSync(join(dir, 'config.json'), '{}');
    assert.throws(() => openRunDir(root, 'r', { mode: 'new' }), /unfinished run: continue it with --resume/);
    assert.throws(() => openRunDir(root, 'empty', { mode: 'resume' }), /nothing to resume/);
    assert.equal(existsSync(join(root, 'empty')), false, 'a refused open leaves no directory');
  });

  it('a lock held by a live process is refused naming its PID; a dead holder’s lock is taken over', async () => {
    const dir = tempDir();
    const file = join(dir, '.lock');
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(file, `${sleeper.pid}\n`);
      assert.throws(
        () => acquireLock(file, 'runs/x'),
        (e: Error) => e instanceof UsageError && e.message.includes(`process ${sleeper.pid}`),
      );
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.on('exit', r));
    }
    // The sleeper is dead now: its lock is stale.
    const release = acquireLock(file, 'runs/x');
    assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
    assert.throws(() => acquireLock(file, 'runs/x'), /already open in this process/);
    release();
    assert.equal(existsSync(file), false);
    assert.deepEqual(readdirSync(dir), [], 'no temporary lock files left');
  });

  it('an interrupted directory replace is undone on the next start; temp files are removed', () => {
    const dir = tempDir();
    // A kill between the two renames: the complete old copy is aside, the target is missing.
    mkdirSync(join(dir, 'model.old-999999'));
    writeFileSync(join(dir, 'model.old-999999', 'model.json'), 'old');
    mkdirSync(join(dir, 'model.tmp-999999'));
    writeFileSync(join(dir, 'results.json.tmp-999998'), 'half');
    writeFileSync(join(dir, 'keep.json'), 'x');
    recoverLeftovers(dir);
    assert.deepEqual(readdirSync(dir).sort(), ['keep.json', 'model']);
    assert.equal(readFileSync(join(dir, 'model', 'model.json'), 'utf8'), 'old');
    // A replace that completes leaves only the new directory.
    writeDirAtomic(join(dir, 'model'), (tmp) => writeFileSync(join(tmp, 'model.json'), 'new'));
    writeFileAtomic(join(dir, 'keep.json'), 'y');
    assert.deepEqual(readdirSync(dir).sort(), ['keep.json', 'model']);
    assert.equal(readFileSync(join(dir, 'model', 'model.json'), 'utf8'), 'new');
  });
});

describe('resume checks', () => {
  const saved = { dataset: 'mnist', epsilon: 0.1, epochs: 4, seed: 1, trainSize: 3000 } as never;
  const now = (o: Record<string, unknown>) =>
    ({ ...(saved as object), json: false, quiet: true, ...o }) as never;
  it('names every flag given with another value than the run has; same values and output flags pass', () => {
    const given = new Set(['epochs', 'epsilon', 'seed', 'quiet']);
    assert.deepEqual(resumeConflicts(saved, now({ epochs: 3, epsilon: 0.3 }), given), [
      '--epochs 3 (the run has 4)',
      '--epsilon 0.3 (the run has 0.1)',
    ]);
    assert.deepEqual(resumeConflicts(saved, now({}), given), []);
    // Not given on the command line: a default that differs from the run is not a conflict.
    assert.deepEqual(resumeConflicts(saved, now({ epochs: 12 }), new Set()), []);
    assert.deepEqual(resumeConflicts(saved, now({ trainSize: undefined }), new Set(['trainSize'])), [
      '--train-size all (the run has 3000)',
    ]);
  });
});

describe('output', () => {
  const m: EpochMetrics = {
    epoch: 12,
    trainLoss: 12.3456,
    trainNllPart: 1,
    trainSmoothingPart: 1,
    trainNll: 0.0112,
    trainSmoothing: 14.4012,
    trainAccuracy: 0.99,
    testAccuracy: 0.9656,
    testNll: 0.2198,
    testEce: 0.1137,
    testMeanConfidence: 0.8519,
    testOverconfidence: -0.1137,
    seconds: 123.4,
  };

  it('epoch lines fit in 100 columns and print the raw H(p,q) and H(u,q), as the README quotes them', () => {
    for (const label of ['ε=0', 'ε=0.05 (non-target)', 'ε=0.123456789 (non-target)']) {
      const text = epochLine(label, 12, m, 12);
      for (const line of text.split('\n')) assert.ok(line.length <= 100, `${line.length}: ${line}`);
      assert.match(text, /H\(p,q\) 0\.0112 H\(u,q\) 14\.401/);
      assert.match(text, /over-conf −0\.1137/);
    }
    assert.equal(wrapParts(['a'.repeat(60), 'b'.repeat(60)], 100), `${'a'.repeat(60)}\n  ${'b'.repeat(60)}`);
  });

  it('the ETA is the whole job’s, from this process’s rate', () => {
    assert.equal(formatDuration(42), '42 s');
    assert.equal(formatDuration(95), '1 min 35 s');
    assert.equal(formatDuration(4000), '1 h 06 min');
    // 10 of 100 steps in 10 s → 90 s left; 50 steps done before a resume do not count toward the rate.
    assert.equal(eta(10, 100, 0, 10_000), '1 min 30 s');
    assert.equal(eta(60, 100, 50, 10_000), '40 s');
    assert.equal(eta(50, 100, 50, 10_000), '…');
  });

  it('a write on a full, read-only or forbidden disk names the file (not its temporary copy) and what to do', () => {
    const errno = (code: string, syscall: string, path?: string) =>
      Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}) });
    // write(2) names no file; the atomic write's temporary copy is named as its target.
    assert.equal(
      errorLine(namePath(errno('ENOSPC', 'write'), 'runs/r/config.json')),
      'labelsmooth: error: runs/r/config.json: no space left on the device (write): free some space, or give another --runs-dir',
    );
    const inTmp = errno('EROFS', 'open', 'runs/r/model.tmp-7/weights.bin');
    assert.equal(
      errorLine(namePath(inTmp, 'runs/r/model', 'runs/r/model.tmp-7')),
      'labelsmooth: error: runs/r/model/weights.bin: read-only file system (open): make the file system writable, or give another --runs-dir',
    );
    assert.equal(
      resumableWriteError(namePath(errno('EDQUOT', 'write'), 'runs/r/metrics.jsonl') as WriteError).message,
      'runs/r/metrics.jsonl: disk quota exceeded (write): free some space, then continue the run with --resume (what it wrote so far is complete)',
    );
    // A system error of another kind on a write is still a bug.
    assert.match(errorLine(namePath(errno('EBADF', 'write'), 'x')), /internal error/);
  });

  it('errors are one line; system errors give the path; unknown ones say internal', () => {
    const sys = Object.assign(new Error("EACCES: permission denied, open 'x/y'"), {
      code: 'EACCES',
      path: 'x/y',
      syscall: 'open',
    });
    assert.equal(errorLine(sys), 'labelsmooth: error: x/y: permission denied (open)');
    assert.equal(
      errorLine(new DataFileError('a.csv', 3, 'bad\nthing')),
      'labelsmooth: error: a.csv:3: bad thing',
    );
    assert.match(
      errorLine(new TypeError('x is undefined')),
      /^labelsmooth: error: internal error: x is undefined \(LABELSMOOTH_DEBUG=1/,
    );
    assert.doesNotMatch(errorLine(new TypeError('boom')), /\n/);
  });

  it('results.json: the fields the report reads are checked with a message', () => {
    assert.equal(resultsProblem([]), "'kind' is not compare, train, distill or evaluate");
    assert.equal(resultsProblem({ kind: 'compare' }), "'dataset.classNames' is missing");
    assert.equal(
      resultsProblem({ kind: 'train', dataset: { classNames: [] }, runs: [{}] }),
      "'runs[0]' lacks epochs or test.bins",
    );
    assert.equal(resultsProblem({ kind: 'evaluate', report: { bins: [], accuracy: 1 } }), null);
  });
});
