// labelsmooth/tfjs on TF.js's webgl and webgpu backends in a real headless chromium, on SwiftShader
// (CPU-emulated Vulkan: no GPU is needed). The page is served from http://localhost by request
// interception (WebGPU needs a secure context; localhost is one). Every backend is compared with the float64
// core, the backend's read and readSync are counted during each step (zero), and a small model trains to
// the cpu backend's losses. Every wait is bounded: a synchronous read-back on WebGPU can hang a page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { PartsResult } from './browser/gpu-entry.js';
import { bounded, browserMissing, bundle, launchGpu, servePage } from './helpers/browser.js';
import { assertClose, decodeFloats, type Fixture, loadFixtures } from './helpers/fixtures.js';

const skip = browserMissing();

/** The language-model fixtures (torch float64, scripts/make_lm_fixtures.py), for softmaxCrossEntropyParts. */
const LM_FIXTURES = loadFixtures('languageModel.json').map((f) => {
  const x = f as Fixture & { shape: number[]; lse: number[]; zLoss?: number | number[] };
  return { ...x, logits: Array.from(decodeFloats(x.logits)) };
});

/** A backend's parts against torch, within float32 rounding (relative to the case's scale). */
function checkParts(c: (typeof LM_FIXTURES)[number], r: PartsResult): void {
  const flat = (v: number | number[] | undefined) =>
    v === undefined ? [0] : typeof v === 'number' ? [v] : v;
  const rowShape = c.shape.slice(0, -1);
  assert.deepEqual(r.lseShape, rowShape, `${c.name}: lse shape`);
  const scale = (v: number[]) => Math.max(1, ...v.map(Math.abs));
  const loss = flat(c.loss);
  const zLoss = c.zLoss === undefined ? loss.map(() => 0) : flat(c.zLoss);
  assertClose(r.loss, loss, { rtol: 0, atol: 4e-6 * scale(loss), label: `${c.name}: loss` });
  assertClose(r.zLoss, zLoss, { rtol: 0, atol: 4e-6 * scale(loss), label: `${c.name}: zLoss` });
  assertClose(r.lse, c.lse, { rtol: 0, atol: 4e-6 * scale(c.lse), label: `${c.name}: lse` });
  assertClose(r.grad, c.grad, { rtol: 0, atol: 2e-6 * scale(c.grad), label: `${c.name}: grad` });
  assert.equal(r.leaked, 0, `${c.name}: ${r.leaked} tensors leaked`);
}
const ORIGIN = 'http://localhost';

/** Float32 tolerance relative to the largest value of the reference. */
const LOSS_RTOL = 2e-6;
const GRAD_RTOL = 2e-6;

describe('labelsmooth/tfjs on webgl and webgpu in chromium (SwiftShader)', { skip: skip ?? false }, () => {
  let page: Page;
  let close: (() => Promise<void>) | undefined;
  const errors: string[] = [];
  const run = <T>(f: () => Promise<T>, what: string, ms = 120_000) => bounded(f(), ms, what);

  before(async () => {
    const js = await bundle(new URL('./browser/gpu-entry.ts', import.meta.url).pathname);
    const browser = await launchGpu();
    close = browser.close;
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      // WebGPU reports invalid shaders and pipelines as console warnings
      if (m.type() === 'error' || /WGSL|Invalid/.test(m.text())) errors.push(m.text());
    });
    await servePage(page, ORIGIN, js);
    await page.goto(`${ORIGIN}/`);
    await page
      .waitForFunction(() => typeof window.gpuCompare === 'function', undefined, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`the test page did not load: ${errors.join('; ')}`);
      });
  });
  after(async () => {
    await close?.();
  });

  it('WebGPU comes up on SwiftShader in this chromium (navigator.gpu.requestAdapter)', async () => {
    const info = await run(
      () =>
        page.evaluate(async () => {
          const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
          if (!gpu) return { secure: isSecureContext, adapter: 'navigator.gpu is missing' };
          const adapter = (await gpu.requestAdapter()) as { info?: { architecture?: string } } | null;
          return {
            secure: isSecureContext,
            adapter: adapter ? (adapter.info?.architecture ?? 'unknown') : null,
          };
        }),
      'requestAdapter',
      30_000,
    );
    assert.equal(info.secure, true);
    assert.equal(info.adapter, 'swiftshader');
  });

  const cpuLosses: number[] = [];
  it('cpu: the reference training run (5 SGD steps)', async () => {
    await run(() => page.evaluate(() => window.gpuSetBackend('cpu')), 'setBackend cpu');
    const r = await run(() => page.evaluate(() => window.gpuTrain(5)), 'train on cpu');
    assert.equal(r.losses.length, 5);
    assert.ok(r.losses[4] < r.losses[0], `losses ${r.losses}`);
    cpuLosses.push(...r.losses);
  });

  it('cpu: softmaxCrossEntropyParts equals torch float64 on every language-model fixture', async () => {
    for (const c of LM_FIXTURES) {
      const r = await run(() => page.evaluate((x) => window.gpuParts(x), c), `cpu: ${c.name}`);
      assert.equal(r.backend, 'cpu');
      checkParts(c, r);
    }
  });

  it('labelsmooth/webgpu on raw GPUBuffers: every case equals the float64 core; pipelines compiled once per device', async () => {
    const r = await run(() => page.evaluate(() => window.webgpuRaw()), 'labelsmooth/webgpu');
    const lines: string[] = [];
    for (const c of r.results) {
      const v = c as Record<string, number>;
      lines.push(
        `${c.name}: loss ${v.lossError.toExponential(2)} of ${v.lossScale.toFixed(3)}, grad ${v.gradError.toExponential(2)} of ${v.gradScale.toExponential(2)}, lse ${v.lseError.toExponential(2)}`,
      );
      assert.ok(v.lossError <= LOSS_RTOL * Math.max(1, v.lossScale), `${c.name}: loss error ${v.lossError}`);
      assert.ok(
        v.zLossError <= LOSS_RTOL * Math.max(1, v.lossScale),
        `${c.name}: zLoss error ${v.zLossError}`,
      );
      assert.ok(v.denominatorError <= 1e-5, `${c.name}: denominator error ${v.denominatorError}`);
      assert.ok(
        v.gradError <= GRAD_RTOL * Math.max(1e-3, v.gradScale),
        `${c.name}: grad error ${v.gradError}`,
      );
      assert.ok(v.lseError <= 4e-6 * 40, `${c.name}: lse error ${v.lseError}`);
      assert.ok(
        v.rowLossError <= LOSS_RTOL * Math.max(1, v.rowLossScale),
        `${c.name}: row loss error ${v.rowLossError}`,
      );
    }
    console.log(`labelsmooth/webgpu:\n  ${lines.join('\n  ')}`);
    assert.equal(r.compiledFirst, 3, 'three passes compiled on the first call');
    assert.equal(r.compiledAfter, 3, 'and never again on the same device');
    assert.match(
      r.invalid,
      /crossEntropyWebGPU: buffers\.targets\[1\] = 9: class index out of range \[0, 4\)/,
    );
    assert.match(r.refused, /crossEntropyWebGPU: options\.focalGamma = 2: not available on WebGPU/);
    assert.match(r.aliased, /crossEntropyWebGPU: buffers\.grad = .*aliases another buffer/);
    assert.deepEqual(errors, []);
  });

  for (const backend of ['webgl', 'webgpu']) {
    describe(`${backend} in chromium`, () => {
      before(async () => {
        const r = await run(
          () => page.evaluate((b) => window.gpuSetBackend(b), backend),
          `setBackend ${backend}`,
        );
        assert.equal(
          r.backend,
          backend,
          `setBackend(${backend}): ${JSON.stringify(r)}; ${errors.join('; ')}`,
        );
      });

      it('every case: loss and gradient equal the float64 core within float32 rounding, with 0 read-backs', async () => {
        const names = await page.evaluate(() => window.gpuCases());
        const lines: string[] = [];
        for (const name of names) {
          const r = await run(() => page.evaluate((n) => window.gpuCompare(n), name), `${backend}: ${name}`);
          assert.equal(r.backend, backend);
          lines.push(
            `${name}: loss ${r.lossError.toExponential(2)} of ${r.lossScale.toFixed(3)}, grad ${r.gradError.toExponential(2)} of ${r.gradScale.toExponential(2)}`,
          );
          assert.equal(r.reads, 0, `${name}: ${r.reads} read-backs`);
          assert.ok(
            r.lossError <= LOSS_RTOL * Math.max(1, r.lossScale),
            `${name}: loss error ${r.lossError}`,
          );
          assert.ok(
            r.gradError <= GRAD_RTOL * Math.max(1e-3, r.gradScale),
            `${name}: grad error ${r.gradError} (max |g| ${r.gradScale})`,
          );
          assert.equal(r.leaked, 0, `${name}: ${r.leaked} tensors leaked`);
        }
        console.log(`${backend}:\n  ${lines.join('\n  ')}`);
        assert.deepEqual(errors, []);
      });

      it('5 SGD steps of a small model give the cpu backend’s losses within float32 noise, 0 read-backs', async () => {
        const r = await run(() => page.evaluate(() => window.gpuTrain(5)), `train on ${backend}`);
        assert.equal(r.reads, 0);
        assert.equal(cpuLosses.length, 5);
        r.losses.forEach((l, s) => {
          assert.ok(
            Math.abs(l - cpuLosses[s]) <= 1e-5 * cpuLosses[s],
            `step ${s}: ${l} vs cpu ${cpuLosses[s]}`,
          );
        });
      });

      it('options the programs do not compute are refused up front, naming the option and the backend', async () => {
        for (const option of ['focalGamma', 'confidencePenalty', 'onLoss', 'lse', 'noise', 'target']) {
          const message = await page.evaluate((o) => window.gpuRefusal(o), option);
          const name = option === 'target' ? 'target' : `options\\.${option}`;
          assert.match(
            message,
            new RegExp(`LabelSmoothingError: softmaxCrossEntropy: ${name} = .*${backend}`),
          );
        }
      });

      it('softmaxCrossEntropyParts: loss, per-row lse, z-loss part and gradient equal torch float64 (every language-model fixture), 0 read-backs', async () => {
        for (const c of LM_FIXTURES) {
          const r = await run(() => page.evaluate((x) => window.gpuParts(x), c), `${backend}: ${c.name}`);
          checkParts(c, r);
          assert.equal(r.reads, 0, `${c.name}: ${r.reads} read-backs`);
        }
        assert.deepEqual(errors, []);
      });

      it('GPU programs per forward pass and per training step: the backward pass is one program', async () => {
        const counts: string[] = [];
        for (const name of [
          'plain, ε = 0.1, padding, mean, K = 1000',
          'sequence [2, 5, 300], softcap 5, z-loss 1e-3',
        ]) {
          const r = await run(
            () => page.evaluate((n) => window.gpuPrograms(n), name),
            `${backend}: programs`,
          );
          counts.push(`${name}: forward ${r.forward}, step ${r.step}: ${r.names.join(' ')}`);
          assert.equal(
            r.step - r.forward,
            1,
            `${name}: the backward pass runs ${r.step - r.forward} programs`,
          );
          assert.ok(r.forward <= (backend === 'webgl' ? 7 : 4), `${name}: ${r.forward} programs forward`);
        }
        console.log(`${backend} programs:\n  ${counts.join('\n  ')}`);
      });

      it('a label out of range in a tensor makes the loss NaN, without a read-back', async () => {
        const r = await run(() => page.evaluate(() => window.gpuInvalidLabel()), `${backend}: invalid label`);
        assert.equal(r.reads, 0);
        assert.ok(Number.isNaN(r.loss), `loss ${r.loss}`);
      });
    });
  }
});

describe('one WGSL row pass for TF.js webgpu and labelsmooth/webgpu', () => {
  /** The WGSL function `name` of a shader, up to the next top-level declaration. */
  const fnOf = (source: string, name: string) => {
    const code = source.replace(/\/\/[^\n]*/g, '');
    const start = code.indexOf(`fn ${name}(`);
    assert.ok(start >= 0, `fn ${name} is missing`);
    const rest = code.slice(start + 1);
    const end = rest.search(/\n\s*(fn |struct |var<|@compute)/);
    return code.slice(start, end < 0 ? undefined : start + 1 + end).replace(/\s+/g, ' ');
  };
  it('both shaders carry the generator’s row statistics, terms and gradient, word for word', async () => {
    const { ROWS } = await import('../packages/labelsmooth/src/webgpu/shaders.js');
    const wgsl = await import('../packages/labelsmooth/src/tfjs/webgpuPrograms.js');
    const tfjsRows = wgsl.rowTermsProgram(4, false, true).getUserCode();
    const tfjsGrad = wgsl.gradientProgram(4, 10, false, true, false).getUserCode();
    assert.equal(fnOf(tfjsRows, 'rowStats'), fnOf(ROWS, 'rowStats'));
    assert.equal(fnOf(tfjsRows, 'merge'), fnOf(ROWS, 'merge'));
    const scalars = (s: string) => s.replaceAll('uniforms.', 'params.');
    const nonTarget = (s: string) => s.replaceAll('params.nonTarget == 1u', 'false');
    assert.equal(scalars(fnOf(tfjsRows, 'rowTerms')), nonTarget(fnOf(ROWS, 'rowTerms')));
    assert.equal(scalars(fnOf(tfjsGrad, 'gradientAt')), nonTarget(fnOf(ROWS, 'gradientAt')));
  });
  it('every workgroup tree reduction is the generator’s, which takes powers of two only', async () => {
    const { DENOMINATORS, ROWS, REDUCE } = await import('../packages/labelsmooth/src/webgpu/shaders.js');
    const wgsl = await import('../packages/labelsmooth/src/tfjs/webgpuPrograms.js');
    const { wgslTreeReduce } = await import('../packages/labelsmooth/src/gpu/wgsl.js');
    const fold = (s: string) => s.replace(/\s+/g, ' ');
    type Step = (i: string, j: string) => string;
    const rowStats: Step = (i, j) => `merge(${i}, ${j}); ts[${i}] = ts[${i}] + ts[${j}];`;
    const shaders: [string, Step][] = [
      [
        DENOMINATORS,
        (i, j) =>
          `dens[${i}] = dens[${i}] + dens[${j}]; counts[${i}] = counts[${i}] + counts[${j}]; firsts[${i}] = min(firsts[${i}], firsts[${j}]);`,
      ],
      [ROWS, rowStats],
      [REDUCE, (i, j) => `sums[${i}] = sums[${i}] + sums[${j}];`],
      [wgsl.rowTermsProgram(4, true, false).getUserCode(), rowStats],
      [
        wgsl.reduceProgram(4, false).getUserCode(),
        (i, j) => `sums[${i}] = sums[${i}] + sums[${j}]; zs[${i}] = zs[${i}] + zs[${j}];`,
      ],
    ];
    for (const [code, step] of shaders) {
      assert.ok(
        fold(code).includes(fold(wgslTreeReduce(256, step))),
        `${step('i', 'j')}: the generated loop`,
      );
      assert.equal(code.split('var half').length, 2, `${step('i', 'j')}: one tree reduction in the shader`);
    }
    for (const bad of [0, 1, 3, 100, 2.5])
      assert.throws(() => wgslTreeReduce(bad, () => ''), /wgslTreeReduce: workgroup must be a power of two/);
  });
});
