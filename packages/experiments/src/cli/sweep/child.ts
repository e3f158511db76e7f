// A trial process: forked by the local pool (`sweep --workers N`) and by `labelsmooth worker`. It trains
// the trials its parent sends over IPC, one at a time, and exits when its parent goes away.
import { describeError } from '../errorLine.js';
import { executeTrial, TrialRefused } from './execute.js';
import { exitWithParent } from './parentWatch.js';
import type { TrialReply, TrialRequest } from './protocol.js';

// The parent passes its pid: one that died before this line ran is noticed too.
exitWithParent(Number(process.argv[2]) || process.ppid);

// Idle, the channel's end is seen at once; busy, the watchdog thread ends the process.
process.on('disconnect', () => process.exit(0));
// A reply the parent can no longer take (it died or closed the channel) is dropped: nobody waits for it.
const send = (m: TrialReply) => {
  if (process.connected) process.send?.(m, undefined, undefined, () => {});
};
// The epoch lines go to the parent's stderr; once nobody reads it, they are dropped, not a crash.
let logging = true;
process.stderr.on('error', () => {
  logging = false;
});

process.on('message', async (m: TrialRequest) => {
  if (m?.type !== 'trial') return;
  const log = (line: string) => {
    if (!m.quiet && logging) process.stderr.write(`${line}\n`);
  };
  try {
    const outcome = await executeTrial(m.spec, m.trial, log);
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
