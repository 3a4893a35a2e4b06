/**
 * `npm run demo`: a real local cluster (3 shards x 1 replica, TLS + AUTH), a few sweeps shown as
 * tables, including one right after the server closed every probe connection, then a
 * pause-primary failover rehearsal shown as a timeline; the cluster is stopped at the end
 * whatever happens (the cluster manager also stops it on Ctrl-C).
 */
import { loadConfig, type ProbeConfig } from '../../lambda/config.js';
import { runDrill } from '../../lambda/drill/engine.js';
import { renderEvent, renderSummary } from '../render/drill-timeline.js';
import { createLocalTrigger } from '../triggers/index.js';
import { LocalClusterError } from '../../lambda/errors.js';
import { ensureServerInstalled } from '../local/ensure-server.js';
import { startLocalCluster, type LocalCluster } from '../local/local-cluster.js';
import { ClusterProber } from '../../lambda/sweep.js';
import { EXIT, runCommand, sleep } from './main.js';
import { renderReport } from '../render/sweep-table.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Closes every probe connection from the server side, as an idle timeout or restart would. */
async function killProbeConnections(cluster: LocalCluster): Promise<number> {
  let killed = 0;
  for (const node of cluster.nodes) {
    const admin = await cluster.connectAdmin(node.port);
    try {
      const clients = String(await admin.call('CLIENT', 'LIST'));
      for (const line of clients.split('\n')) {
        const id = /(?:^|\s)id=(\d+)/.exec(line)?.[1];
        if (id && /\sname=slotwatch(\s|$)/.test(line)) {
          await admin.call('CLIENT', 'KILL', 'ID', id);
          killed++;
        }
      }
    } finally {
      admin.disconnect();
    }
  }
  return killed;
}

/** The demo's last act: a crashed-primary rehearsal on the first shard, shown as a timeline. */
async function rehearseFailover(config: ProbeConfig): Promise<boolean> {
  say(
    "\nFailover rehearsal: the first shard's primary stops answering (SIGSTOP) until a replica takes over…",
  );
  const report = await runDrill({
    config,
    ...(config.authToken && { token: config.authToken }),
    trigger: await createLocalTrigger('pause-primary', {}),
    timeLimitMs: 60_000,
    writeIntervalMs: 50,
    readIntervalMs: 100,
    onEvent: (event) => say(`  ${renderEvent(event)}`),
  });
  say(`\n${renderSummary(report)}\n`);
  return report.recovered;
}

async function demo(): Promise<number> {
  ensureServerInstalled(say);
  say(
    'Starting a local Redis Cluster: 3 shards x 1 replica, TLS on client and bus ports, AUTH token…',
  );
  const started = performance.now();
  const cluster = await startLocalCluster({
    shards: 3,
    replicas: 1,
    log: (line) => say(`  ${line}`),
  });
  try {
    say(
      `Cluster ready in ${((performance.now() - started) / 1000).toFixed(1)} s, configuration endpoint ${cluster.settings.endpoint}.\n`,
    );
    const config = loadConfig({
      env: { ...cluster.env(), PROBE_TIMEOUT_MS: '1000' },
      defaultSink: 'none',
    });
    const prober = new ClusterProber(config);
    try {
      const show = async (heading: string): Promise<boolean> => {
        const report = await prober.sweep();
        say(`${renderReport(report, heading)}\n`);
        return report.ok;
      };
      await show(
        'Sweep 1 (cold: connections are opened first, their set-up time is not in the latencies)',
      );
      await sleep(1000);
      await show('Sweep 2 (warm: the same connections, as a warm Lambda keeps them)');
      const killed = await killProbeConnections(cluster);
      say(
        `The servers just closed all ${killed} probe connections (CLIENT KILL), like an idle timeout or a restart would.`,
      );
      const ok = await show(
        'Sweep 3 (stale connections are noticed and replaced: no false failure, reconnects counted)',
      );
      const recovered = await rehearseFailover(config);
      return ok && recovered ? EXIT.ok : EXIT.failed;
    } finally {
      prober.close();
    }
  } finally {
    say('Stopping the local cluster…');
    await cluster.stop();
    say('Stopped; no server is left running.');
  }
}

runCommand(async () => {
  try {
    return await demo();
  } catch (error) {
    if (error instanceof LocalClusterError) {
      process.stderr.write(`slotwatch: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
});
