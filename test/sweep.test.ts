// labelsmooth sweep with local trial processes: the grid, the ledger, the URL check, results equal to
// compare's, and resuming after kill -9 of the coordinator without re-running a finished trial.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandGrid, trialKey } from '../packages/experiments/src/cli/sweep/grid.js';
import { TrialLedger } from '../packages/experiments/src/cli/sweep/ledger.js';
import { checkQueueUrl, isLoopback } from '../packages/experiments/src/cli/sweep/redisUrl.js';
import { canonicalJson } from '../packages/experiments/src/cli/sweep/spec.js';
import { DataFileError } from '../packages/experiments/src/data/errors.js';
import { cli, tempDir } from './helpers/cli.js';
import { killIfAlive, start, trialPids, waitGone } from './helpers/processes.js';
import { deterministicResults, grid, ledgerLines, testSpec, writeCsv } from './helpers/sweep.js';

describe('sweep grid', () => {
  it('expands in compare order (seed outer, ε inner) with one distinct key per trial', () => {
    const trials = expandGrid({
      datasets: ['csv:/data/x:y.csv'],
      noises: ['uniform'],
      seeds: [3, 7],
      runs: [
        { loss: 'cross-entropy', epsilon: 0 },
        { loss: 'cross-entropy', epsilon: 0.1 },
      ],
    });
    assert.deepEqual(
      trials.map((t) => [t.seed, t.epsilon]),
      [
        [3, 0],
        [3, 0.1],
        [7, 0],
        [7, 0.1],
      ],
    );
    const keys = trials.map(trialKey);
    assert.equal(new Set(keys).size, 4);
    for (const k of keys) assert.ok(!k.includes(':'), k); // BullMQ job ids must not contain ':'
    assert.equal(
      keys[1],
      'dataset=csv%3A%2Fdata%2Fx%3Ay.csv,epsilon=0.1,noise=uniform,loss=cross-entropy,seed=3',
    );
  });

  it('canonical JSON sorts keys and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] }), '{"a":[{"c":"x"}],"b":1}');
  });
});

describe('--queue URL check', () => {
  it('accepts loopback without a password and any host with one; refuses others unless --insecure', () => {
    assert.ok(isLoopback('localhost') && isLoopback('127.0.0.1') && isLoopback('[::1]'));
    assert.ok(!isLoopback('10.0.0.5') && !isLoopback('redis.example.com'));
    assert.equal(checkQueueUrl('redis://127.0.0.1:6379', false).display, 'redis://127.0.0.1:6379');
    assert.throws(
      () => checkQueueUrl('redis://10.0.0.5:6379', false),
      /refusing a Redis without a password on a non-loopback host .*--insecure/,
    );
    assert.equal(checkQueueUrl('redis://10.0.0.5:6379', true).url, 'redis://10.0.0.5:6379');
    const withPassword = checkQueueUrl('redis://:s3cret@10.0.0.5:6379', false);
    assert.equal(withPassword.display, 'redis://:***@10.0.0.5:6379');
    assert.ok(withPassword.url.includes('s3cret'));
    assert.throws(
      () => checkQueueUrl('http://127.0.0.1:6379', false),
      /expected a redis:\/\/ or rediss:\/\/ URL/,
    );
    assert.throws(() => checkQueueUrl('not a url', false), /is not a URL/);
  });

  it('the CLI refuses a password-less remote Redis before doing anything', () => {
    const dir = tempDir();
    const r = cli(['sweep', '--queue', 'redis://192.0.2.1:6379', '--runs-dir', dir, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /labelsmooth: error: --queue redis:\/\/192\.0\.2\.1:6379\/?: refusing a Redis without a password/,
    );
  });
});

describe('trial logits', () => {
  it('travel as base64 and come back bit for bit', async () => {
    const { decodeLogits, encodeLogits } = await import('../packages/experiments/src/cli/sweep/execute.js');
    const test = Float32Array.of(1.5, -0, Number.MIN_VALUE, 3.4e38, -7.25);
    const scaled = test.map((v) => v / 3);
    const enc = encodeLogits({ label: 'ε=0', seed: 2, test, scaled });
    const back = decodeLogits({
      key: 'k',
      worker: 'w',
      seconds: 0,
      logits: JSON.parse(JSON.stringify(enc)),
      result: { label: 'ε=0', seed: 2 } as never,
    });
    assert.deepEqual(new Uint8Array(back.test.buffer), new Uint8Array(test.buffer));
    assert.deepEqual(new Uint8Array(back.scaled!.buffer), new Uint8Array(scaled.buffer));
    assert.equal(back.label, 'ε=0');
    assert.equal(back.seed, 2);
  });
});

describe('trial ledger', () => {
  const outcome = (key: string) => ({
    key,
    worker: 'host/1',
    seconds: 0.5,
    result: { label: 'ε=0', epsilon: 0, seed: 1, epochs: [], test: { accuracy: 0.25 } } as never,
    logits: { test: Buffer.from(Float32Array.of(1, -2).buffer).toString('base64') },
  });

  it('keeps recorded trials across reopen, ignores other specs, cuts a torn last line', () => {
    const dir = tempDir();
    const a = new TrialLedger(dir, 'spec-a');
    a.record(outcome('k1'));
    a.record(outcome('k1')); // a second report of the same trial is not a second line
    a.close();
    const b = new TrialLedger(dir, 'spec-b');
    b.record(outcome('k9'));
    b.close();
    appendFileSync(join(dir, 'trials.jsonl'), '{"spec":"spec-a","key":"k2","res'); // killed mid-append
    const c = new TrialLedger(dir, 'spec-a');
    assert.deepEqual([...c.done.keys()], ['k1']);
    assert.equal(c.done.get('k1')?.result.test.accuracy, 0.25);
    assert.equal(c.foreign, 1);
    assert.equal(c.repaired, Buffer.byteLength('{"spec":"spec-a","key":"k2","res'));
    c.record(outcome('k2'));
    c.close();
    const lines = readFileSync(join(dir, 'trials.jsonl'), 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).key),
      ['k1', 'k9', 'k2'],
    );
  });

  it('a corrupt line in the middle is an error naming the file and line', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'trials.jsonl'), '{"spec":"s","key":"k1"}\nnot json\n');
    assert.throws(
      () => new TrialLedger(dir, 's'),
      (e: unknown) => e instanceof DataFileError && /trials\.jsonl:2: corrupt ledger line/.test(e.message),
    );
  });
});

describe('labelsmooth sweep (local processes)', () => {
  const dir = tempDir('labelsmooth-sweep-');
  const csv = join(dir, 'data.csv');
  writeCsv(csv);
  const runs = join(dir, 'runs');

  it("with compare's budget-matched run (the default), results.json equal to compare's", () => {
    const args = grid(csv, runs, 1).filter(
      (a, i, all) => a !== '--budget-epsilon' && all[i - 1] !== '--budget-epsilon',
    );
    const c = cli(['compare', ...args, '--name', 'cmp-budget', '--quiet']);
    assert.equal(c.code, 0, c.stderr);
    const s = cli(['sweep', ...args, '--name', 'sw-budget', '--workers', '2']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /ε=0\.1 on train ∪ validation.*: 6 trials, 0 already in/);
    const swept = deterministicResults(join(runs, 'sw-budget'));
    assert.deepEqual(swept, deterministicResults(join(runs, 'cmp-budget')));
    const labels = JSON.parse(readFileSync(join(runs, 'sw-budget', 'results.json'), 'utf8')).summary.map(
      (r: { label: string }) => r.label,
    );
    assert.ok(labels.includes('ε=0.1 on train ∪ validation'), labels.join(', '));
  });

  it('gives results.json equal to compare for the same grid, with 2 worker processes', () => {
    const c = cli(['compare', ...grid(csv, runs), '--name', 'cmp', '--quiet']);
    assert.equal(c.code, 0, c.stderr);
    const s = cli(['sweep', ...grid(csv, runs), '--name', 'sw', '--workers', '2']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /4 trials, 0 already in .*trials\.jsonl, 4 to train in 2 local processes/);
    assert.match(s.stdout, /ε=0 \+ temperature scaling/);
    assert.deepEqual(deterministicResults(join(runs, 'sw')), deterministicResults(join(runs, 'cmp')));
    const lines = ledgerLines(join(runs, 'sw'));
    assert.equal(lines.length, 4);
    assert.equal(new Set(lines.map((l) => l.key)).size, 4);
    // Both processes trained (each trial is recorded with the pid that trained it).
    assert.equal(new Set(lines.map((l) => l.worker)).size, 2);
    // Run again: every trial is in the ledger, nothing is trained.
    const again = cli(['sweep', ...grid(csv, runs), '--name', 'sw', '--workers', '2']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /4 trials, 4 already in .*, 0 to train\n/);
    assert.doesNotMatch(again.stderr, /done by|epoch 1:/);
    assert.equal(ledgerLines(join(runs, 'sw')).length, 4);
    assert.deepEqual(deterministicResults(join(runs, 'sw')), deterministicResults(join(runs, 'cmp')));
  });

  it('after kill -9 of the coordinator, the same command resumes and never re-trains a finished trial', async () => {
    const args = ['sweep', ...grid(csv, runs), '--name', 'killed', '--workers', '1'];
    const first = start(args);
    let pids: number[] = [];
    try {
      const done = await first.waitFor(/sweep: (\S+) done by/);
      pids = trialPids(first.stderr);
      first.child.kill('SIGKILL');
      await first.exited;
      // Its trial process notices the orphaning within one batch and exits.
      for (const pid of pids) assert.ok(await waitGone(pid), `trial process ${pid} still runs`);
      const before = ledgerLines(join(runs, 'killed')).map((l) => l.key);
      assert.ok(before.includes(done[1]) && before.length >= 1 && before.length < 4, before.join(' '));
      const second = cli(args);
      assert.equal(second.code, 0, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(`4 trials, ${before.length} already in .*, ${4 - before.length} to train`),
      );
      const retrained = [...second.stderr.matchAll(/sweep: (\S+) done by/g)].map((m) => m[1]);
      assert.equal(retrained.length, 4 - before.length);
      for (const k of before) assert.ok(!retrained.includes(k), `${k} was trained again`);
      const keys = ledgerLines(join(runs, 'killed')).map((l) => l.key);
      assert.equal(keys.length, 4);
      assert.equal(new Set(keys).size, 4);
      assert.deepEqual(deterministicResults(join(runs, 'killed')), deterministicResults(join(runs, 'cmp')));
    } finally {
      first.child.kill('SIGKILL');
      for (const pid of pids) killIfAlive(pid);
    }
  });
});

describe('sweep trial configurations', () => {
  it("a trial trains compare's configuration for the same variant: loss, ε, parameters, schedule", async () => {
    const { compareVariants, FAMILY_DEFAULTS, losses, runConfig, familyParameters } = await import(
      '../packages/experiments/src/cli/family.js'
    );
    const { trainConfig } = await import('../packages/experiments/src/cli/sweep/spec.js');
    const o = {
      ...FAMILY_DEFAULTS,
      epsilons: [0, 0.2],
      noise: 'uniform' as const,
      losses: losses('ce,ls,cp,focal,flsd-53,ols'),
      confidencePenalty: 0.3,
      focalGamma: 2,
      focalAlpha: 0.25,
      olsEpsilon: 0.4,
      epsilonSchedule: 'cosine' as const,
      epsilonFinal: 0.05,
    };
    const base = { model: 'mlp' as const, epochs: 3, batchSize: 32, lr: 0.01, noise: o.noise };
    const spec = { ...base, family: familyParameters(o) } as never;
    for (const v of [
      ...compareVariants(o, new Set()),
      ...compareVariants({ ...o, losses: undefined }, new Set()),
    ]) {
      const trial = {
        dataset: 'd',
        noise: o.noise,
        seed: 4,
        epsilon: v.epsilon,
        loss: v.loss ?? 'cross-entropy',
      };
      assert.deepEqual(trainConfig(spec, trial as never), runConfig(base, 4, v));
    }
  });

  it('a changed setting is named, once per setting, with both values', async () => {
    const { specConflicts } = await import('../packages/experiments/src/cli/sweep/specFile.js');
    const { FAMILY_DEFAULTS } = await import('../packages/experiments/src/cli/family.js');
    const spec = {
      data: { dataset: 'csv:x.csv', validation: 0.1, seed: 1, trainSize: 100 },
      monitorSeed: 1,
      model: 'mlp',
      epochs: 2,
      batchSize: 64,
      lr: 0.003,
      family: { ...FAMILY_DEFAULTS },
      backend: 'wasm',
      backendName: 'wasm (SIMD)',
      version: '1.0.0',
      dataHash: 'aaaa',
    } as never as import('../packages/experiments/src/cli/sweep/spec.js').SweepSpec;
    assert.deepEqual(specConflicts(spec, structuredClone(spec)), []);
    const now = structuredClone(spec);
    now.family.confidencePenalty = 0.3;
    now.family.epsilonSchedule = 'linear';
    now.data.seed = 2;
    now.monitorSeed = 2;
    now.data.trainSize = undefined;
    assert.deepEqual(specConflicts(spec, now), [
      'the first of --seeds 2 (the sweep has 1)',
      '--train-size all (the sweep has 100)',
      '--confidence-penalty 0.3 (the sweep has 0.1)',
      '--epsilon-schedule linear (the sweep has constant)',
    ]);
  });
});

describe('labelsmooth sweep --losses (local processes)', () => {
  const dir = tempDir('labelsmooth-sweep-family-');
  const csv = join(dir, 'data.csv');
  writeCsv(csv);
  const runs = join(dir, 'runs');
  const family = [
    '--losses',
    'ce,ls,cp,focal',
    '--epsilons',
    '0.2',
    '--seeds',
    '1',
    '--confidence-penalty',
    '0.2',
    '--focal-gamma',
    '2',
    '--epsilon-schedule',
    'linear',
    '--epsilon-final',
    '0.05',
  ];
  const args = ['--dataset', `csv:${csv}`, '--epochs', '2', '--runs-dir', runs, ...family];

  it("trains each loss with its parameters and schedule, equal to compare's results, labelled per loss", () => {
    const c = cli(['compare', ...args, '--name', 'cmp', '--quiet']);
    assert.equal(c.code, 0, c.stderr);
    const s = cli(['sweep', ...args, '--name', 'sw', '--workers', '2']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /losses \{ce, ls ε=0\.2→0\.05 linear, cp β=0\.2, focal γ=2\}, seeds \{1\}/);
    assert.match(s.stderr, /4 trials, 0 already in .*, 4 to train in 2 local processes/);
    // The focal trial's epoch lines show its parts F(p), F(u), as compare's do.
    assert.match(s.stderr, /focal γ=2 seed 1 epoch 1\/2: .*F\(p\)/);
    const results = JSON.parse(readFileSync(join(runs, 'sw', 'results.json'), 'utf8'));
    assert.deepEqual(
      results.runs.map((r: { label: string }) => r.label),
      ['ce', 'ls ε=0.2→0.05 linear', 'cp β=0.2', 'focal γ=2'],
    );
    assert.deepEqual(
      results.runs[1].epochs.map((m: { epsilon: number }) => m.epsilon),
      [0.2, 0.05],
    );
    assert.deepEqual(results.config.losses, ['ce', 'ls', 'cp', 'focal']);
    assert.equal(results.config.confidencePenalty, 0.2);
    assert.equal(results.config.focalGamma, 2);
    assert.equal(results.config.epsilonSchedule, 'linear');
    assert.deepEqual(deterministicResults(join(runs, 'sw')), deterministicResults(join(runs, 'cmp')));
    for (const label of ['cp β=0.2', 'focal γ=2', 'ls ε=0.2→0.05 linear'])
      assert.ok(s.stdout.includes(label), label);
    const report = readFileSync(join(runs, 'sw', 'report.html'), 'utf8');
    for (const label of ['cp β=0.2', 'focal γ=2']) assert.ok(report.includes(label), label);
    assert.deepEqual(
      ledgerLines(join(runs, 'sw'))
        .map((l) => l.key.match(/loss=([^,]+)/)?.[1])
        .sort(),
      ['ce', 'cp', 'focal', 'ls'],
    );
  });

  it('run again with a changed family setting: refused by name; with a loss added: only that one trains', () => {
    const changed = cli(['sweep', ...args, '--confidence-penalty', '0.3', '--name', 'sw', '--workers', '1']);
    assert.equal(changed.code, 1, changed.stderr);
    assert.equal(changed.stderr.trimEnd().split('\n').length, 1, changed.stderr);
    assert.match(
      changed.stderr,
      /labelsmooth: error: .*sw is a sweep started with other settings \(sweep\.json\); these differ: --confidence-penalty 0\.3 \(the sweep has 0\.2\)\. Run it with its settings, give another --name, or add --force/,
    );
    const wider = args.map((a) => (a === 'ce,ls,cp,focal' ? 'ce,ls,cp,focal,flsd-53' : a));
    const more = cli(['sweep', ...wider, '--name', 'sw', '--workers', '1']);
    assert.equal(more.code, 0, more.stderr);
    assert.match(more.stderr, /5 trials, 4 already in .*, 1 to train/);
    assert.match(more.stderr, /sweep: dataset=\S+,loss=flsd-53,seed=1 done by/);
  });

  it("one data hash: the sweep's is that of the pool every seed draws from; train's that of its seed's splits", async () => {
    const t = cli([
      'train',
      '--dataset',
      `csv:${csv}`,
      '--validation',
      '0.02',
      '--epochs',
      '1',
      '--runs-dir',
      runs,
      '--name',
      't',
      '--quiet',
      '--json',
    ]);
    assert.equal(t.code, 0, t.stderr);
    const { dataHash, loadPool, loadSplits, poolHash } = await import(
      '../packages/experiments/src/cli/datasets.js'
    );
    const data = { dataset: `csv:${csv}`, validation: 0.02, seed: 1 };
    const sha = JSON.parse(readFileSync(join(runs, 't', 'config.json'), 'utf8')).dataSha256;
    const spec = JSON.parse(readFileSync(join(runs, 'sw', 'sweep.json'), 'utf8'));
    assert.match(sha, /^[0-9a-f]{64}$/);
    assert.equal(sha, dataHash(loadSplits(data)));
    assert.equal(spec.dataHash, poolHash(loadPool(data)).slice(0, 16));
  });

  it('a parameter flag for a loss the sweep does not train is refused, as in compare', () => {
    const r = cli([
      'sweep',
      '--dataset',
      `csv:${csv}`,
      '--runs-dir',
      runs,
      '--losses',
      'ce,cp',
      '--focal-gamma',
      '2',
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /labelsmooth: error: --focal-gamma applies to --losses focal, which this command does not train/,
    );
  });
});

describe('a failed trial in the local pool', () => {
  const dir = tempDir('labelsmooth-sweep-fail-');
  const csv = join(dir, 'data.csv');
  writeCsv(csv);

  /** A spec every trial process accepts (its version, data hash and backend), with `over` on top. */
  const specWith = async (over: Record<string, unknown>) => {
    const { useBackend } = await import('../packages/experiments/src/cli/backend.js');
    const { loadPool } = await import('../packages/experiments/src/cli/datasets.js');
    const { sweepDataHash } = await import('../packages/experiments/src/cli/sweep/fingerprint.js');
    const spec = testSpec(csv, { backend: 'wasm', backendName: await useBackend('wasm') });
    return { ...spec, dataHash: sweepDataHash(loadPool(spec.data)), ...over } as never;
  };
  const trial = {
    dataset: `csv:${csv}`,
    epsilon: 0.1,
    noise: 'uniform',
    loss: 'cross-entropy',
    seed: 1,
  } as const;
  const fail = async (over: Record<string, unknown>) => {
    const { runLocalPool } = await import('../packages/experiments/src/cli/sweep/pool.js');
    const outcomes: unknown[] = [];
    const err = await runLocalPool(await specWith(over), [trial], {
      workers: 1,
      quiet: true,
      log: () => {},
      onOutcome: (x) => outcomes.push(x),
    }).then(
      () => assert.fail('the trial did not fail'),
      (e: Error) => e,
    );
    assert.deepEqual(outcomes, []);
    return err;
  };

  it("is printed with the trial's key and the cause the trial process saw, not as an internal error", async () => {
    const { errorLine } = await import('../packages/experiments/src/cli/errorLine.js');
    const line = errorLine(await fail({ version: '0.0.0-other' }));
    assert.match(
      line,
      /^labelsmooth: error: trial dataset=csv%3A\S+data\.csv,epsilon=0\.1,noise=uniform,loss=cross-entropy,seed=1 failed in trial process \d+: worker \S+ refuses the trial: its labelsmooth is version \S+, the coordinator's is 0\.0\.0-other; the trials finished before it are recorded: run the same command again/,
    );
    assert.ok(!line.includes('internal error'), line);
  });

  it('an internal error in the trial process says so, and LABELSMOOTH_DEBUG shows its stack there', async () => {
    const { errorLine } = await import('../packages/experiments/src/cli/errorLine.js');
    const e = await fail({ model: 'pooled-mlp' }); // the coordinator refuses this; a trial process does not
    assert.match(
      errorLine(e),
      /^labelsmooth: error: trial \S+seed=1 failed in trial process \d+: internal error: --model pooled-mlp needs image data .* \(LABELSMOOTH_DEBUG=1 prints its stack; please report it\); the trials finished/,
    );
    assert.match(
      errorLine(e, true),
      /\nin the trial process: Error: --model pooled-mlp needs image data[^\n]*\n\s+at buildModel/,
    );
  });
});

describe('sweep --force', () => {
  it('replaces an unfinished sweep too: its trials.jsonl and sweep.json go; a file of others refuses it', async () => {
    const { openRunDir } = await import('../packages/experiments/src/cli/runDir.js');
    const { claim } = await import('../packages/experiments/src/train/manifest.js');
    const runs = tempDir();
    const dir = join(runs, 'sw');
    const kept = join(dir, 'notes.txt');
    mkdirSync(dir);
    claim(dir, ['trials.jsonl', 'sweep.json']);
    new TrialLedger(dir, 'old').close();
    writeFileSync(join(dir, 'sweep.json'), '{}\n');
    writeFileSync(kept, 'mine\n');
    assert.throws(() => openRunDir(runs, 'sw', { mode: 'ledger', force: true }), /sw holds notes\.txt/);
    assert.equal(readFileSync(kept, 'utf8'), 'mine\n');
    assert.ok(existsSync(join(dir, 'trials.jsonl')) && existsSync(join(dir, 'sweep.json')));
    rmSync(kept);
    const run = openRunDir(runs, 'sw', { mode: 'ledger', force: true });
    run.release();
    assert.ok(!existsSync(join(dir, 'trials.jsonl')) && !existsSync(join(dir, 'sweep.json')));
  });
});
