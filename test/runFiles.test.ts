// End-to-end (the built CLI): a run directory knows exactly what it wrote (its manifest), removes only
// that, and refuses a directory holding anything else, whatever the command, naming one such file.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MANIFEST } from '../packages/experiments/src/train/manifest.js';
import { builtCli, toyCsv } from './helpers/builtCli.js';
import { tempDir } from './helpers/cli.js';
import { tree } from './helpers/tree.js';

function refusal(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

/** A user's file in `dir/rel`, with its content. */
function plant(dir: string, rel: string): () => void {
  const file = join(dir, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `mine: ${rel}\n`);
  return () => assert.equal(readFileSync(file, 'utf8'), `mine: ${rel}\n`, `${rel} was changed`);
}

describe('a run removes only the files it wrote', () => {
  it('train refuses a directory holding files it did not write (model/, checkpoints/, top level), naming one', () => {
    const runs = tempDir();
    const data = toyCsv(join(runs, 'toy.csv'));
    const train = (name: string, ...more: string[]) =>
      builtCli([
        'train',
        '--dataset',
        `csv:${data}`,
        '--epochs',
        '2',
        '--runs-dir',
        runs,
        '--name',
        name,
        '--quiet',
        ...more,
      ]);
    for (const rel of ['model/important.txt', 'checkpoints/mine.txt', 'notes.txt']) {
      const name = rel.split('/')[0].replace('.', '-');
      const intact = plant(join(runs, name), rel);
      const escaped = rel.replace(/\./g, '\\.');
      for (const more of [[], ['--force'], ['--resume']])
        refusal(
          train(name, ...more),
          new RegExp(`${name} holds ${escaped}, which labelsmooth did not write .*move it away`),
        );
      intact();
      assert.deepEqual(tree(join(runs, name)), [
        ...(rel.includes('/') ? [`${rel.split('/')[0]}/`] : []),
        rel,
      ]);
    }
  });

  it('a finished run: --force refuses a file added to it, then replaces exactly the listed files', () => {
    const runs = tempDir();
    const data = toyCsv(join(runs, 'toy.csv'));
    const args = ['train', '--dataset', `csv:${data}`, '--epochs', '2', '--runs-dir', runs, '--name', 'r'];
    const first = builtCli([...args, '--quiet']);
    assert.equal(first.code, 0, first.stderr);
    const run = join(runs, 'r');
    // The manifest lists every file of the run, and the run holds nothing else.
    const listed = JSON.parse(readFileSync(join(run, MANIFEST), 'utf8')).paths as string[];
    const files = tree(run).filter((p) => p !== MANIFEST);
    assert.deepEqual(files, [...listed].sort());
    assert.ok(files.includes('model/weights.bin') && files.includes('checkpoints/epoch-0002/state.json'));
    assert.ok(!files.some((p) => p.startsWith('checkpoints/epoch-0001')), 'the old checkpoint is gone');

    const intact = plant(run, 'model/important.txt');
    refusal(builtCli([...args, '--force', '--quiet']), /r holds model\/important\.txt, which labelsmooth/);
    intact();
    assert.deepEqual(
      tree(run).filter((p) => p !== 'model/important.txt' && p !== MANIFEST),
      files,
    );
    renameSync(join(run, 'model', 'important.txt'), join(runs, 'important.txt'));
    // A dated backup looks like an atomic write's set-aside copy (X.old-N), but no process id is that
    // large: it is the user's, refused by name, and neither renamed over results.json nor removed.
    const backup = plant(run, 'results.json.old-20240101');
    refusal(
      builtCli([...args, '--force', '--quiet']),
      /r holds results\.json\.old-20240101, which labelsmooth/,
    );
    backup();
    renameSync(join(run, 'results.json.old-20240101'), join(runs, 'results.json.old-20240101'));
    const again = builtCli([...args, '--force', '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(tree(run), [...files, MANIFEST].sort());
  });

  it('compare, sweep, distill, evaluate and report refuse too; nothing is written or removed', () => {
    const runs = tempDir();
    const data = toyCsv(join(runs, 'toy.csv'));
    const logits = join(runs, 'logits.json');
    writeFileSync(logits, '[[2,1,0],[0,3,1],[1,1,2]]');
    const labels = join(runs, 'labels.json');
    writeFileSync(labels, '[0,1,2]');
    const d = ['--dataset', `csv:${data}`, '--epochs', '1', '--runs-dir', runs, '--quiet'];
    const commands: Record<string, string[]> = {
      compare: ['compare', ...d, '--seeds', '1'],
      sweep: ['sweep', ...d, '--seeds', '1', '--workers', '1'],
      distill: ['distill', ...d, '--seeds', '1', '--student-epochs', '1'],
      evaluate: ['evaluate', '--predictions', logits, '--labels', labels, '--runs-dir', runs],
    };
    for (const [command, args] of Object.entries(commands)) {
      const intact = plant(join(runs, command), 'report.html');
      for (const more of [[], ['--force']])
        refusal(
          builtCli([...args, '--name', command, ...more]),
          /holds report\.html, which labelsmooth did not/,
        );
      intact();
      assert.deepEqual(tree(join(runs, command)), ['report.html']);
    }
    // `report` writes report.html only: refused when the one there is not labelsmooth's (a directory
    // someone made by hand, with no manifest listing it).
    const ev = builtCli([...commands.evaluate, '--name', 'ev']);
    assert.equal(ev.code, 0, ev.stderr);
    const hand = join(runs, 'hand');
    mkdirSync(hand);
    copyFileSync(join(runs, 'ev', 'results.json'), join(hand, 'results.json'));
    const intact = plant(hand, 'report.html');
    refusal(builtCli(['report', hand]), /hand\/report\.html was not written by labelsmooth/);
    intact();
    rmSync(join(hand, 'report.html'));
    assert.equal(builtCli(['report', hand]).code, 0);
    assert.match(readFileSync(join(hand, 'report.html'), 'utf8'), /<html/i);
  });
});
