// The packages as a user gets them: `npm pack`, then the tarball installed into an empty project with no
// network. The library must install alone (no runtime dependencies), compute a loss from plain ESM, and
// type-check under a strict tsc with nothing but its own declarations; both packages must pass publint and
// @arethetypeswrong/cli (ESM only), and ship only what runs. (The command line's global install needs its
// dependencies from the registry: .ci/run does it.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers/cli.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'node_modules', '.bin');
// The WASM kernel's base64 binary is ~190 kB of it; the GPU programs (TF.js webgl/webgpu, labelsmooth/webgpu) ~80 kB.
const MAX_UNPACKED = 600_000;

interface Packed {
  filename: string;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

/** Run a command to completion (bounded); fails the test with its output when it exits non-zero. */
function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.error ?? ''}\n${out}`);
  return r.stdout;
}

describe('the published packages (npm pack, offline install)', () => {
  let dir: string;
  let lib: Packed;
  let cli: Packed;

  before(() => {
    dir = tempDir('labelsmooth-pack-');
    const json = sh(
      'npm',
      [
        'pack',
        '--json',
        '--ignore-scripts',
        '--pack-destination',
        dir,
        '-w',
        'packages/labelsmooth',
        '-w',
        'packages/experiments',
      ],
      ROOT,
    );
    [lib, cli] = JSON.parse(json) as Packed[];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the library ships only what runs, at most 600 kB unpacked', () => {
    assert.ok(lib.unpackedSize <= MAX_UNPACKED, `unpacked ${lib.unpackedSize} bytes > ${MAX_UNPACKED}`);
    const extra = lib.files.filter(
      (f) =>
        f.path !== 'package.json' &&
        !/^(README\.md|LICENSE)$/.test(f.path) &&
        !/^dist\/.*\.(js|d\.ts)$/.test(f.path),
    );
    assert.deepEqual(extra, [], 'only dist/*.js and *.d.ts (no .wasm, source maps or sources)');
    const declarations = lib.files.filter((f) => f.path.endsWith('.d.ts') && f.size > 20_000);
    assert.deepEqual(
      declarations,
      [],
      'no declaration file carries data (the kernel is a string, not a literal type)',
    );
  });

  it('the command line ships its committed bin and dist/, and is publishable', () => {
    const paths = cli.files.map((f) => f.path);
    assert.ok(paths.includes('bin/labelsmooth.js'), 'bin/labelsmooth.js is in the tarball');
    assert.deepEqual(
      paths.filter(
        (p) =>
          !/^(package\.json|README\.md|LICENSE|bin\/labelsmooth\.js)$/.test(p) &&
          !/^dist\/.*\.(js|d\.ts)$/.test(p),
      ),
      [],
    );
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/experiments/package.json'), 'utf8'));
    assert.equal(pkg.private, undefined, 'not private');
    assert.deepEqual(pkg.bin, { labelsmooth: 'bin/labelsmooth.js' });
  });

  for (const name of ['labelsmooth', 'experiments']) {
    it(`publint and @arethetypeswrong/cli (ESM only) find no problem in packages/${name}`, () => {
      const tgz = join(dir, (name === 'labelsmooth' ? lib : cli).filename);
      const lint = sh(
        join(BIN, 'publint'),
        ['run', '--strict', '--pack', 'npm'],
        join(ROOT, 'packages', name),
      );
      assert.match(lint, /All good!/);
      sh(join(BIN, 'attw'), [tgz, '--profile', 'esm-only', '--format', 'table-flipped'], dir);
    });
  }

  it('installs alone, offline, into an empty project: an ESM script computes a loss, a strict tsc type-checks', () => {
    const project = join(dir, 'project');
    sh('mkdir', ['-p', project], dir);
    writeFileSync(
      join(project, 'package.json'),
      '{ "name": "consumer", "private": true, "type": "module" }\n',
    );
    sh('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, lib.filename)], project);
    const installed = readdirSync(join(project, 'node_modules')).filter((f) => !f.startsWith('.'));
    assert.deepEqual(
      installed,
      ['labelsmooth'],
      'one package: no dependencies (the TF.js peers are optional)',
    );

    writeFileSync(
      join(project, 'loss.mjs'),
      `import { crossEntropy, calibration } from 'labelsmooth';
const r = crossEntropy(new Float32Array([2, 1, 0, -1, 0.5]), Int32Array.of(0), { classes: 5, labelSmoothing: 0.1, grad: true });
const c = calibration([[2, 1, 0], [0, 3, 1]], [0, 2]);
console.log(JSON.stringify({ loss: r.loss, grad: Array.from(r.grad), accuracy: c.accuracy }));
`,
    );
    const out = JSON.parse(sh(process.execPath, ['loss.mjs'], project));
    // PyTorch 1.13: F.cross_entropy(torch.tensor([[2., 1, 0, -1, 0.5]]), torch.tensor([0]), label_smoothing=0.1)
    assert.ok(Math.abs(out.loss - 0.7244379) < 1e-6, `loss ${out.loss}`);
    assert.ok(Math.abs(out.grad.reduce((a: number, b: number) => a + b, 0)) < 1e-6, 'gradient rows sum to 0');
    assert.equal(out.accuracy, 0.5);

    writeFileSync(
      join(project, 'check.ts'),
      `import {
  type CalibrationReport,
  type CrossEntropyOptions,
  type CrossEntropyResult,
  calibration,
  crossEntropy,
  kernelInfo,
  kernelWorkspace,
  LabelSmoothingError,
  noiseMatrix,
} from 'labelsmooth';

const options: CrossEntropyOptions = { classes: 3, labelSmoothing: 0.1, noise: 'non-target' };
const r: CrossEntropyResult = crossEntropy(new Float32Array(6), Int32Array.of(0, 2), options);
const loss: number | Float64Array = r.loss;
const report: CalibrationReport = calibration([[1, 2, 3]], [2]);
const ece: number = report.ece;
const ws = kernelWorkspace(2, 3);
ws.dispose();
const path: string | undefined = kernelInfo().last?.path;
const m = noiseMatrix([[1, 0], [0, 1]]);
// @ts-expect-error: an unknown option is a type error, not only a run-time one
crossEntropy(new Float32Array(3), [0], { classes: 3, label_smoothing: 0.1 });
export const used = [loss, ece, path, m, LabelSmoothingError];
`,
    );
    // No @types/node and no DOM: the declarations must stand on their own.
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022'],
          types: [],
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['check.ts'],
      }),
    );
    sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
  });
});
