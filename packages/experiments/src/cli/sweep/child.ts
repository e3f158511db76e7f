// A trial process: forked by the local pool (`sweep --workers N`) and by `labelsmooth worker`. It trains
// the trials its parent sends over IPC, one at a time, and exits when its parent goes away.
import { describeError } from '../errorLine.js';
import { executeTrial, TrialRefused } from './execute.js';
import type { TrialReply, TrialRequest } from './protocol.js';

const parent = process.ppid;
const send = (m: TrialReply) => process.send?.(m);

// Training is synchronous between batches, so the 'disconnect' event can wait a whole epoch: the batch
// callback also checks the parent's pid, and a trial process orphaned by kill -9 stops within one batch.
function checkParent(): void {
  if (process.ppid !== parent) process.exit(1);
}

process.on('disconnect', () => process.exit(0));
process.on('message', async (m: TrialRequest) => {
  if (m?.type !== 'trial') return;
  const log = (line: string) => {
    if (!m.quiet) process.stderr.write(`${line}\n`);
  };
  try {
    const outcome = await executeTrial(m.spec, m.trial, log, checkParent);
    send({ type: 'done', outcome });
  } catch (e) {
    const refused = e instanceof TrialRefused;
    const { text, internal } = describeError(e);
    send({
      type: 'failed',
      refused,
      internal: internal && !refused,
      message: internal && !refused ? `internal error: ${text}` : text,
      stack: e instanceof Error ? e.stack : undefined,
    });
  }
});
send({ type: 'ready' });
