/**
 * `pause-primary`: the shard's primary stops answering, as a crashed or hung primary does. Its
 * process is stopped with SIGSTOP until the cluster has promoted a replica (or the drill ends),
 * then continued with SIGCONT, and rejoins as a replica. Only for a server on this machine, and
 * only after checking that the pid really is that server (local-process.ts). SIGCONT is sent in
 * a `finally`, and from an exit hook should the process end while the server is stopped.
 */
import { describeError } from '../../cluster/connect.js';
import { parseInfo } from '../replica-sync.js';
import { aborted } from '../timing.js';
import type { Trigger, TriggerContext } from '../types.js';
import { shardNodes } from './shard-nodes.js';
import { verifyLocalServer } from './local-process.js';

type Located = { ok: true; pid: number; address: string } | { ok: false; reason: string };

async function locatePrimary(context: TriggerContext): Promise<Located> {
  const { primary } = shardNodes(context);
  if (primary === undefined) return { ok: false, reason: `shard ${context.shard} has no primary` };
  let pid: number;
  try {
    const info = parseInfo(String(await context.send(primary, ['INFO', 'server'])));
    pid = Number(info.get('process_id'));
  } catch (error) {
    return {
      ok: false,
      reason: `INFO server on ${primary.address} failed: ${describeError(error)}`,
    };
  }
  const server = await verifyLocalServer(primary.host, primary.port, pid);
  return server.ok ? { ok: true, pid, address: primary.address } : server;
}

/** A signal to a process that may be gone already. */
function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone: nothing left to continue.
  }
}

export const pausePrimaryTrigger: Trigger = {
  name: 'pause-primary',

  async check(context) {
    const located = await locatePrimary(context);
    return located.ok ? { ok: true } : located;
  },

  async fire(context) {
    const located = await locatePrimary(context);
    if (!located.ok) throw new Error(located.reason);
    const { pid, address } = located;
    const resume = (): void => signalQuietly(pid, 'SIGCONT');
    process.on('exit', resume);
    let stopped = false;
    try {
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      context.log('trigger', `SIGSTOP pid ${pid} (primary ${address})`);
      await Promise.race([context.promoted, aborted(context.signal)]);
    } finally {
      if (stopped) {
        resume();
        context.log('old primary resumed', `SIGCONT pid ${pid}`);
      }
      process.removeListener('exit', resume);
    }
  },
};
