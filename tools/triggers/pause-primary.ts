/**
 * `pause-primary`: the shard's primary stops answering, as a crashed or hung primary does. Its
 * process is stopped with SIGSTOP until the cluster has promoted a replica (or the drill ends),
 * then continued with SIGCONT, and rejoins as a replica. Only for a server on this machine, and
 * only after checking that the pid really is that server (local-process.ts). SIGCONT is sent in
 * a `finally`, from an exit hook should the process end while the server is stopped, and, should
 * this process be killed outright (SIGKILL runs no hook), by a detached watchdog that continues
 * the server shortly after the drill's time limit.
 */
import { spawn } from 'node:child_process';
import { describeError } from '../../lambda/cluster/connect.js';
import { parseInfo } from '../../lambda/drill/replica-sync.js';
import { aborted } from '../../lambda/drill/timing.js';
import type { Trigger, TriggerContext } from '../../lambda/drill/types.js';
import { shardNodes } from '../../lambda/drill/triggers/shard-nodes.js';
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

/** How long after the time limit the watchdog continues the server, if nothing else did. */
export const WATCHDOG_GRACE_MS = 5000;

/**
 * A process of its own (own process group, not waited for) that sends SIGCONT to `pid` at
 * `at` (Date.now() ms) plus the grace, whatever becomes of this one. Returns how to call it off.
 */
function startWatchdog(pid: number, at: number): () => void {
  const seconds = Math.max(1, Math.ceil((at - Date.now() + WATCHDOG_GRACE_MS) / 1000));
  const watchdog = spawn('sh', ['-c', `sleep ${seconds}; kill -CONT ${pid} 2>/dev/null`], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.on('error', () => {
    // No shell: the finally and the exit hook remain.
  });
  watchdog.unref();
  return () => {
    // The whole group, so that its sleep does not outlive it.
    if (watchdog.pid !== undefined) signalQuietly(-watchdog.pid, 'SIGKILL');
  };
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
    const callOffWatchdog = startWatchdog(pid, context.limitAt);
    const resume = (): void => signalQuietly(pid, 'SIGCONT');
    const onExit = (): void => {
      resume();
      callOffWatchdog();
    };
    process.on('exit', onExit);
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
      process.removeListener('exit', onExit);
      callOffWatchdog();
    }
  },
};
