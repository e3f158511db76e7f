// A node:test reporter for scripts/run-tests.mjs: one JSON line per skipped test or suite (file, name,
// reason) and per top-level test or suite that ran, so that the summary can say what was skipped and CI
// can check that the browser suite really ran.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, name, skip, nesting } = event.data;
    if (skip !== undefined)
      yield `${JSON.stringify({ kind: 'skip', file, name, nesting, reason: skip === true ? '' : String(skip) })}\n`;
    else if (nesting === 0)
      yield `${JSON.stringify({ kind: event.type === 'test:pass' ? 'pass' : 'fail', file, name, nesting })}\n`;
  }
}
