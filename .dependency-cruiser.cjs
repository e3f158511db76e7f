// Import rules of labelsmooth, checked by `npm run layers` (part of `npm test`): layers point one way.
//   library (packages/labelsmooth):    random, math  ←  kernels  ←  core  ←  metrics  ←  tfjs
// (math: formulas both the kernels and the core use, e.g. the noise vector; a leaf like random)
//                                       core  ←  gpu (the GPU programs' plan)  ←  tfjs, webgpu
//   experiments (packages/experiments): data  ←  train  ←  results  ←  report  ←  cli
// Kernels import nothing from core (types included); experiments see the library only through its
// package name (never its src/ or dist/ files). Deep imports of another package's private dist/ paths are
// refused by biome's noRestrictedImports (biome.json), which sees the import as written.
const LIB = '^packages/labelsmooth/src/';
const EXP = '^packages/experiments/src/';
/** The command modules of cli/ (each loaded by main.ts only). */
const COMMANDS = 'compare|train|evaluate|sweep|worker|distill|report';

/** A rule forbidding `from` to import any of `to` (folders of one package). */
function below(name, pkg, from, to, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: `${pkg}${from}/` },
    to: { path: `${pkg}(${to.join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'Import circles make layers meaningless.', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'library-has-no-runtime-dependencies',
      comment: 'The loss library installs nothing; only labelsmooth/tfjs may load TF.js (a peer dependency).',
      severity: 'error',
      from: { path: LIB, pathNot: `${LIB}tfjs/` },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'library-not-on-experiments',
      severity: 'error',
      from: { path: '^packages/labelsmooth/' },
      to: { path: '^packages/experiments/' },
    },
    {
      name: 'experiments-use-the-public-library',
      comment: "Experiments import 'labelsmooth' / 'labelsmooth/tfjs', not the library's files.",
      severity: 'error',
      from: { path: EXP },
      to: { path: '^packages/labelsmooth/src/' },
    },
    below('random-is-a-leaf', LIB, 'random', ['core', 'kernels', 'metrics', 'tfjs', 'gpu', 'webgpu']),
    below('math-is-a-leaf', LIB, 'math', ['random', 'core', 'kernels', 'metrics', 'tfjs', 'gpu', 'webgpu']),
    below(
      'kernels-below-core',
      LIB,
      'kernels',
      ['core', 'metrics', 'tfjs', 'gpu', 'webgpu'],
      'Kernels import nothing from core, types included: they see a call as their own KernelPlan (kernels/plan.ts).',
    ),
    below('core-below-metrics-and-tfjs', LIB, 'core', ['metrics', 'tfjs', 'gpu', 'webgpu']),
    below('metrics-below-tfjs', LIB, 'metrics', ['tfjs', 'kernels', 'gpu', 'webgpu']),
    below('gpu-below-tfjs-and-webgpu', LIB, 'gpu', ['tfjs', 'webgpu', 'metrics', 'kernels']),
    below('webgpu-without-tfjs', LIB, 'webgpu', ['tfjs', 'metrics', 'kernels']),
    below('data-is-the-bottom', EXP, 'data', ['train', 'results', 'report', 'cli']),
    below('train-below-results-report-cli', EXP, 'train', ['results', 'report', 'cli']),
    below('results-below-report-and-cli', EXP, 'results', ['report', 'cli']),
    below('report-below-cli', EXP, 'report', ['cli']),
    {
      name: 'commands-do-not-import-commands',
      comment: 'Only main.ts loads a command; what two commands share lives in a module of its own.',
      severity: 'error',
      from: { path: `${EXP}`, pathNot: `${EXP}cli/main\\.ts$` },
      to: { path: `${EXP}cli/(${COMMANDS})\\.ts$` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/|\\.generated\\.ts$|/assembly/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
