// End-to-end: `train --resume` verifies before it continues — conflicting flags, changed data, damaged
// checkpoints are refused with one line each — and then resumes to the uninterrupted result.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toyCsv } from './helpers/builtCli.js';
import { cli, tempDir } from './helpers/cli.js';

function refusal(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

describe('train --resume verifies before it continues', () => {
  it('refuses conflicting flags, changed data and damaged checkpoints; then resumes exactly', () => {
    const dir = tempDir();
    const data = toyCsv(join(dir, 'toy.csv'));
    const base = ['train', '--dataset', `csv:${data}`, '--epochs', '2', '--seed', '3', '--runs-dir', dir];
    const full = cli([...base, '--quiet', '--json']);
    assert.equal(full.code, 0, full.stderr);
    const run = join(dir, 'train-toy-seed3-epochs2');
    const expected = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
    // Make it an interrupted run after its last checkpoint: no model, no results.
    for (const f of ['results.json', 'report.html', 'model']) rmSync(join(run, f), { recursive: true });
    const resume = [...base, '--resume', '--quiet'];

    // Other options make another run name: nothing there, and the unfinished runs are listed.
    refusal(
      cli([...base, '--epochs', '3', '--epsilon', '0.3', '--resume']),
      /train-toy-eps0\.3-seed3-epochs3: nothing to resume .*\(unfinished here: train-toy-seed3-epochs2\)/,
    );
    refusal(
      cli([...base, '--epochs', '3', '--epsilon', '0.3', '--resume', '--name', 'train-toy-seed3-epochs2']),
      /--resume continues .*train-toy-seed3-epochs2 with the settings in its config\.json; these differ: --epsilon 0\.3 \(the run has 0\.1\), --epochs 3 \(the run has 2\)/,
    );
    // A flag given with the run's own value is fine (checked by the successful resume below).

    copyFileSync(data, `${data}.bak`);
    writeFileSync(data, readFileSync(data, 'utf8').replace('\n0.000,', '\n0.001,'));
    refusal(
      cli(resume),
      /--resume: the data of csv:.*toy\.csv changed since .* started \(SHA-256 [0-9a-f]{12}… then/,
    );
    copyFileSync(`${data}.bak`, data);

    const pointer = join(run, 'checkpoint.json');
    const saved = readFileSync(pointer);
    writeFileSync(pointer, '{"latest": "epoch-00');
    refusal(
      cli(resume),
      /checkpoint\.json: corrupt \(.*\); the checkpoint is damaged: start the run over with --force/,
    );
    writeFileSync(pointer, saved);

    const weights = join(run, 'checkpoints', 'epoch-0002', 'weights.bin');
    const good = readFileSync(weights);
    truncateSync(weights, 100);
    refusal(cli(resume), /epoch-0002\/weights\.bin: 100 bytes, expected \d+; the checkpoint is damaged/);
    const flipped = Buffer.from(good);
    flipped[7] ^= 1;
    writeFileSync(weights, flipped);
    refusal(cli(resume), /weights\.bin: SHA-256 does not match state\.json/);
    writeFileSync(weights, good);

    const ok = cli([...resume, '--epochs', '2', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const got = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
    const strip = (ms: { seconds: number }[]) => ms.map(({ seconds: _s, ...m }) => m);
    assert.deepEqual(strip(got.runs[0].epochs), strip(expected.runs[0].epochs));
    assert.deepEqual(got.runs[0].test, expected.runs[0].test);
    refusal(cli(resume), /is finished \(results\.json\): nothing to resume; to train it again, use --force/);
  });
});

describe('train prints its results as compare and sweep do', () => {
  it("the summary, Müller et al.'s table, the fitted temperature, then the model, results and report", () => {
    const dir = tempDir();
    const data = toyCsv(join(dir, 'toy.csv'));
    const r = cli([
      'train',
      '--dataset',
      `csv:${data}`,
      '--epochs',
      '1',
      '--runs-dir',
      dir,
      '--quiet',
      '--name',
      't',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const run = join(dir, 't');
    const at = [
      /run +accuracy +NLL +ECE/,
      /method +ECE +NLL +accuracy/,
      /ε=0\.1 seed 1: temperature T = \d+\.\d{3} fitted on validation/,
      new RegExp(`model: ${join(run, 'model', 'model.json')}`),
      new RegExp(`results: ${join(run, 'results.json')}\\nreport: ${join(run, 'report.html')}\\n$`),
    ].map((re) => r.stdout.search(re));
    assert.ok(
      at.every((x, i) => x >= 0 && (i === 0 || x > at[i - 1])),
      `${at}\n${r.stdout}`,
    );
  });
});
