// Chaos, end to end (the built CLI): a full disk (a small tmpfs filled to a chosen number of free
// bytes), a read-only one, and a directory the user may not write. Every failure is one line naming the
// file and what to do, with a non-zero exit; the run directory holds only complete files its manifest
// lists; once space is freed the run continues (--resume) to results identical to an undisturbed run.
// Mounting needs root (as in CI); elsewhere the suite is skipped, and the test runner announces the skip.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MANIFEST } from '../packages/experiments/src/train/manifest.js';
import { builtCli, toyCsv } from './helpers/builtCli.js';
import { tempDir } from './helpers/cli.js';
import { tree } from './helpers/tree.js';

const isRoot = process.getuid?.() === 0;

/** Whether this process can mount a tmpfs (root in a container without CAP_SYS_ADMIN cannot). */
function canMount(): boolean {
  if (!isRoot) return false;
  const dir = tempDir('labelsmooth-mount-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
  if (ok) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}

const skip = canMount() ? false : 'needs root with mount(2) to mount a small tmpfs (CI runs as root)';

/** Fill the file system holding `filler` with it, then shrink it to leave `free` bytes free. */
function fillLeaving(filler: string, free: number): void {
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (;;) {
      // Never more than a tmpfs of a few MB: bounded.
      if (written > 64 * 1024 * 1024) throw new Error('the tmpfs does not fill up');
      written += writeSync(fd, block, 0, block.length);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    // The last block may have been written in part.
    written = statSync(filler).size;
  }
  ftruncateSync(fd, Math.max(0, written - free));
  closeSync(fd);
}

/** The run directory holds complete files only, each listed in its manifest, and no temporary copies. */
function consistent(run: string): void {
  const files = tree(run);
  assert.deepEqual(
    files.filter((p) => /\.(tmp|old|stale)-\d+/.test(p)),
    [],
    'temporary copies left behind',
  );
  if (!files.includes(MANIFEST)) {
    assert.deepEqual(files, [], `files without a manifest: ${files.join(', ')}`);
    return;
  }
  const listed = new Set(JSON.parse(readFileSync(join(run, MANIFEST), 'utf8')).paths as string[]);
  for (const p of files)
    if (p !== MANIFEST && p !== '.lock') assert.ok(listed.has(p), `${p} not in the manifest`);
  for (const p of files.filter((q) => q.endsWith('.json'))) JSON.parse(readFileSync(join(run, p), 'utf8'));
}

const strip = (ms: { seconds: number }[]) => ms.map(({ seconds: _s, ...m }) => m);

describe('a full, read-only or forbidden file system (tmpfs)', { skip }, () => {
  let mnt = '';
  let data = '';
  let reference: { runs: { epochs: { seconds: number }[]; test: unknown }[] };
  let weights: Buffer;
  const args = (runsDir: string, more: string[] = []) => [
    'train',
    '--dataset',
    `csv:${data}`,
    '--epochs',
    '3',
    '--seed',
    '2',
    '--runs-dir',
    runsDir,
    '--name',
    'r',
    '--quiet',
    ...more,
  ];

  before(() => {
    const work = tempDir('labelsmooth-chaos-');
    chmodSync(work, 0o755);
    data = toyCsv(join(work, 'toy.csv'));
    const ref = builtCli(args(join(work, 'ref')));
    assert.equal(ref.code, 0, ref.stderr);
    reference = JSON.parse(readFileSync(join(work, 'ref', 'r', 'results.json'), 'utf8'));
    weights = readFileSync(join(work, 'ref', 'r', 'model', 'weights.bin'));
    mnt = join(work, 'mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', mnt]);
  });

  after(() => {
    if (mnt) spawnSync('umount', [mnt]);
  });

  /**
   * Run `train` (plus `more`) in `runs` with `kb` KB free; on a failure check its one line and the run
   * directory, free the space and continue as the line says; then the results must be the reference's.
   * Returns where the run stopped (the path in the message), or `finished`.
   */
  function exhaust(runs: string, kb: number, more: string[] = []): string {
    const filler = join(mnt, 'filler');
    fillLeaving(filler, kb * 1024);
    const run = join(runs, 'r');
    const r = builtCli(args(runs, more));
    let stopped = 'finished';
    if (r.code !== 0) {
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      const m = new RegExp(
        `^labelsmooth: error: ${runs}/r(/\\S*)?: no space left on the device \\(\\w+\\): free some space, ` +
          '(or give another --runs-dir|then continue the run with --resume \\(what it wrote so far is complete\\))\\n$',
      ).exec(r.stderr);
      assert.ok(m, `${kb} KB free: ${r.stderr}`);
      stopped = m[1] ?? '/';
    }
    consistent(run);
    rmSync(filler);
    // A failed run is unfinished (results.json is written last): continue it the way the message says.
    assert.equal(existsSync(join(run, 'results.json')), r.code === 0, `${kb} KB free`);
    if (r.code !== 0) {
      const started = existsSync(join(run, 'config.json'));
      const again = builtCli(args(runs, started ? ['--resume'] : []));
      assert.equal(again.code, 0, `${kb} KB free, then freed: ${again.stderr}`);
    }
    consistent(run);
    const got = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
    assert.deepEqual(strip(got.runs[0].epochs), strip(reference.runs[0].epochs), `${kb} KB free`);
    assert.deepEqual(got.runs[0].test, reference.runs[0].test, `${kb} KB free`);
    assert.deepEqual(readFileSync(join(run, 'model', 'weights.bin')), weights, `${kb} KB free`);
    return stopped;
  }

  it('out of space at every stage: one line naming the file, then --resume reaches the same results', (t) => {
    const runs = join(mnt, 'runs');
    const seen: string[] = [];
    // Training: free bytes from none (the lock, the manifest) through each file of two checkpoints.
    for (const kb of [0, 8, 64, 300, 600, 1900]) {
      rmSync(runs, { recursive: true, force: true });
      mkdirSync(runs);
      seen.push(`${kb} KB: ${exhaust(runs, kb)}`);
    }
    // The end of a run (its last checkpoint written): the model, the report, the results.
    for (const kb of [100, 200, 400]) {
      for (const f of ['results.json', 'report.html', 'model'])
        rmSync(join(runs, 'r', f), { recursive: true });
      seen.push(`${kb} KB at the end: ${exhaust(runs, kb, ['--resume'])}`);
    }
    t.diagnostic(`free space → where the run stopped: ${seen.join('; ')}`);
    const files = new Set(seen.map((s) => s.replace(/.*: /, '').replace(/epoch-\d+/, 'epoch-N')));
    for (const f of ['/.lock', '/checkpoints/epoch-N/optimizer.bin', '/model/weights.bin', '/report.html'])
      assert.ok(files.has(f), `never out of space on ${f}: ${seen.join('; ')}`);
    assert.ok(!seen.some((s) => /\.tmp-\d/.test(s)), 'a message names a temporary file');
  });

  it('read-only: a new run and a --resume are refused in one line; nothing changes', () => {
    const runs = join(mnt, 'ro');
    mkdirSync(runs);
    const started = builtCli(args(runs));
    assert.equal(started.code, 0, started.stderr);
    rmSync(join(runs, 'r', 'results.json'));
    const before = tree(join(runs, 'r'));
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const fresh = builtCli([...args(runs), '--name', 'fresh']);
      assert.notEqual(fresh.code, 0);
      assert.match(
        fresh.stderr,
        new RegExp(
          `^labelsmooth: error: ${runs}/fresh: read-only file system \\(mkdir\\): make the file system writable, or give another --runs-dir\\n$`,
        ),
      );
      const resume = builtCli(args(runs, ['--resume']));
      assert.notEqual(resume.code, 0);
      assert.match(
        resume.stderr,
        new RegExp(
          `^labelsmooth: error: ${runs}/r/\\.lock: read-only file system \\(\\w+\\): make the file system writable, or give another --runs-dir\\n$`,
        ),
      );
      assert.deepEqual(tree(join(runs, 'r')), before);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
    const resumed = builtCli(args(runs, ['--resume']));
    assert.equal(resumed.code, 0, resumed.stderr);
    consistent(join(runs, 'r'));
  });

  it('permission denied (as user nobody): one line naming the directory and what to do', () => {
    const runs = join(mnt, 'forbidden');
    mkdirSync(runs, { mode: 0o755 });
    const r = builtCli(args(runs), { uid: 65534, gid: 65534 });
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^labelsmooth: error: ${runs}/r: permission denied \\(mkdir\\): allow this user to write there, or give another --runs-dir\\n$`,
      ),
    );
    assert.deepEqual(tree(runs), []);
  });
});
