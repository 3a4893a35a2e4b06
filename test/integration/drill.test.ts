/**
 * The failover drill on a real local cluster (3 shards x 1 replica, node timeout 1 s): both local
 * triggers end with a promoted replica and exact figures; pre-checks that fail leave the cluster
 * as it was; no drill key survives a drill; the CLI prints one report and exits 0/1/2.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, type ProbeConfig } from '../../lambda/config.js';
import { DRILL_KEY_PATTERN, runDrill, type DrillOptions } from '../../lambda/drill/engine.js';
import { LOCK_KEY } from '../../lambda/drill/lock.js';
import { ROTATION_KEY } from '../../lambda/drill/rotation.js';
import { createLocalTrigger } from '../../tools/triggers/index.js';
import { WATCHDOG_GRACE_MS } from '../../tools/triggers/pause-primary.js';
import type { DrillReport, Trigger, TriggerName } from '../../lambda/drill/types.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import {
  TEST_TIMEOUTS,
  adminOn,
  portOf,
  runCli,
  useTestCluster,
  waitFor,
} from '../support/cluster.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';

const NODE_TIMEOUT_MS = 1000;
const TIME_LIMIT_MS = 30_000;
const FIRST_SHARD = '0-5460';

let cluster: LocalCluster;
let config: ProbeConfig;

const handle = useTestCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS });
beforeAll(() => {
  cluster = handle.cluster;
  config = loadConfig({ env: { ...cluster.env(), ...TEST_TIMEOUTS }, defaultSink: 'none' });
});
// Each drill waits for recovery itself; this also settles what a failed test may have left.
afterEach(() => cluster.waitHealthy());

const baseOptions = (): Omit<DrillOptions, 'trigger'> => ({
  config,
  ...(config.authToken && { token: config.authToken }),
  timeLimitMs: TIME_LIMIT_MS,
  writeIntervalMs: 50,
  readIntervalMs: 100,
});

async function drill(trigger: TriggerName): Promise<DrillReport> {
  return runDrill({ ...baseOptions(), trigger: await createLocalTrigger(trigger, {}) });
}

/** Port -> role, as each node says of itself. */
async function roles(): Promise<Record<number, string>> {
  const entries = await Promise.all(
    cluster.nodes.map(async ({ port }) => {
      let role = '?';
      await adminOn(cluster, port, async (admin) => {
        const reply = (await admin.call('ROLE')) as unknown[];
        role = String(reply[0]);
      });
      return [port, role] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Every key matching slotwatch:*drill* on any node. */
async function drillKeys(): Promise<string[]> {
  const found = new Set<string>();
  for (const { port } of cluster.nodes) {
    await adminOn(cluster, port, async (admin) => {
      let cursor = '0';
      for (let page = 0; page < 100; page++) {
        const [next, keys] = await admin.scan(cursor, 'MATCH', DRILL_KEY_PATTERN, 'COUNT', 1000);
        for (const key of keys) found.add(key);
        cursor = next;
        if (cursor === '0') break;
      }
    });
  }
  return [...found].sort();
}

/** Deletes every drill key, the lock among them, on the primaries that hold them. */
async function removeDrillKeys(): Promise<void> {
  const keys = await drillKeys();
  for (const { port } of cluster.nodes) {
    await adminOn(cluster, port, async (admin) => {
      for (const key of keys) await admin.del(key).catch(() => 0); // MOVED on others
    });
  }
}

/** Runs `command` on whichever primary serves the lock's slot. */
async function onLockOwner(command: [string, ...string[]]): Promise<unknown> {
  for (const { port } of cluster.nodes) {
    let reply: unknown;
    let served = false;
    await adminOn(cluster, port, async (admin) => {
      try {
        reply = await admin.call(...command);
        served = true;
      } catch {
        // MOVED, or a replica: not the owner.
      }
    });
    if (served) return reply;
  }
  throw new Error(`no node served ${command.join(' ')}`);
}

const events = (report: DrillReport): string[] => report.timeline.map((e) => e.event);

describe('the pause-primary trigger', () => {
  it('rehearses a hung primary: a replica is promoted, writes stop for about the node timeout, nothing is left', async () => {
    // Prepare
    const before = await roles();

    // Act
    const report = await drill('pause-primary');

    // Assess
    expect(report).toMatchObject({ recovered: true, shard: FIRST_SHARD, trigger: 'pause-primary' });
    expect(report.aborted).toBeUndefined();
    expect(report.newPrimary).not.toBe('');
    expect(report.newPrimary).not.toBe(report.oldPrimary);
    expect(before[portOf(report.oldPrimary)]).toBe('master');
    expect(before[portOf(report.newPrimary)]).toBe('slave');
    const after = await roles();
    expect(after[portOf(report.oldPrimary)]).toBe('slave');
    expect(after[portOf(report.newPrimary)]).toBe('master');
    expect(report.writeOutageMs).toBeGreaterThanOrEqual(NODE_TIMEOUT_MS);
    expect(report.writeOutageMs).toBeLessThan(TIME_LIMIT_MS);
    expect(report.primaryReadOutageMs).toBeGreaterThanOrEqual(NODE_TIMEOUT_MS);
    expect(report.ackedWrites).toBeGreaterThan(0);
    expect(events(report)).toEqual(
      expect.arrayContaining([
        'pre-checks passed',
        'trigger',
        'first failed write',
        'new primary observed',
        'old primary resumed',
        'first successful write',
        'old primary back as replica',
        'cluster ok',
        'recovered',
        'keys removed',
      ]),
    );
    expect(await drillKeys()).toEqual([]);
    console.log(
      `pause-primary: write outage ${report.writeOutageMs} ms, read outage ${report.readOutageMs} ms (primary ${report.primaryReadOutageMs}, replicas ${report.replicaReadOutageMs}), ${report.ackedWrites} acked, ${report.lostWrites} lost, ${report.durationMs} ms`,
    );
  });
});

describe('the cluster-failover trigger', () => {
  it('hands over without losing an acknowledged write', async () => {
    // Act
    const report = await drill('cluster-failover');

    // Assess
    expect(report).toMatchObject({ recovered: true, lostWrites: 0, trigger: 'cluster-failover' });
    expect(report.ackedWrites).toBeGreaterThan(0);
    expect(report.newPrimary).not.toBe(report.oldPrimary);
    expect((await roles())[portOf(report.newPrimary)]).toBe('master');
    expect(report.samples?.some((s) => s.stream === 'write')).toBe(true);
    expect(report.samples?.some((s) => s.stream === `read:${report.newPrimary}`)).toBe(true);
    expect(await drillKeys()).toEqual([]);
    console.log(
      `cluster-failover: write outage ${report.writeOutageMs} ms, read outage ${report.readOutageMs} ms, ${report.ackedWrites} acked, ${report.lostWrites} lost, ${report.durationMs} ms`,
    );
  });
});

describe('pre-checks', () => {
  it('abort on a paused replica and leave the cluster untouched', async () => {
    // Prepare: pause the drilled shard's replica.
    const before = await roles();
    const sweep = await handle.prober.sweep();
    const replica = sweep.nodes.find((n) => n.shard === FIRST_SHARD && n.role === 'replica');
    const port = portOf(replica?.address ?? '');

    // Act
    cluster.pause(port);
    let report: DrillReport;
    try {
      report = await drill('cluster-failover');
    } finally {
      cluster.resume(port);
    }

    // Assess
    expect(report.recovered).toBe(false);
    expect(report.aborted).toMatch(new RegExp(`${replica?.address}.*timeout`));
    expect(report.ackedWrites).toBe(0);
    expect(events(report)).toEqual(['drill started', 'aborted']);
    expect(await roles()).toEqual(before);
    expect(await drillKeys()).toEqual([]);
  });

  it("abort while another drill's lock is held, and leave that lock alone", async () => {
    // Prepare
    const before = await roles();
    const otherDrill = 'drill 0000: pause-primary on shard 0-5460, from elsewhere';
    await onLockOwner(['SET', LOCK_KEY, otherDrill, 'PX', '60000']);

    // Act
    let report: DrillReport;
    try {
      report = await drill('pause-primary');
      // Assess: the other drill's lock is untouched.
      expect(await onLockOwner(['GET', LOCK_KEY])).toBe(otherDrill);
    } finally {
      await onLockOwner(['DEL', LOCK_KEY]);
    }

    // Assess
    expect(report.recovered).toBe(false);
    expect(report.aborted).toContain(`another drill is running on this cluster (${otherDrill}`);
    expect(report.aborted).toMatch(/its lock expires in \d+ s/);
    expect(await roles()).toEqual(before);
    expect(await drillKeys()).toEqual([]);
  });
});

describe('triggers that do not act, and interruptions', () => {
  const refusing: Trigger = {
    name: 'cluster-failover',
    check: () => Promise.resolve({ ok: false, reason: 'not today' }),
    fire: () => Promise.reject(new Error('must not be called')),
  };
  const failing: Trigger = {
    name: 'cluster-failover',
    check: () => Promise.resolve({ ok: true }),
    fire: () => Promise.reject(new Error('the API said no')),
  };

  it('a refusing trigger aborts before anything is written, and the lock is released', async () => {
    // Act
    const report = await runDrill({ ...baseOptions(), trigger: refusing });

    // Assess
    expect(report).toMatchObject({ recovered: false, aborted: 'not today', ackedWrites: 0 });
    expect(await drillKeys()).toEqual([]);
  });

  it('a trigger failing before it acted ends the drill as aborted, cleaned up, roles unchanged', async () => {
    // Prepare
    const before = await roles();

    // Act
    const report = await runDrill({ ...baseOptions(), trigger: failing });

    // Assess
    expect(report.recovered).toBe(false);
    expect(report.aborted).toBe('the trigger failed before acting: the API said no');
    expect(report.ackedWrites).toBeGreaterThan(0);
    expect(report.lostWrites).toBe(0);
    expect(events(report)).not.toContain('trigger');
    expect(events(report)).toContain('keys removed');
    expect(await roles()).toEqual(before);
    expect(await drillKeys()).toEqual([]);
  });

  it('an interruption during the baseline stops the drill before the trigger, cleaned up', async () => {
    // Act
    const report = await runDrill({
      ...baseOptions(),
      trigger: failing,
      signal: AbortSignal.timeout(500),
    });

    // Assess
    expect(report).toMatchObject({ recovered: false, aborted: 'interrupted before the trigger' });
    expect(events(report)).not.toContain('trigger');
    expect(await drillKeys()).toEqual([]);
  });
});

describe('npm run drill', () => {
  const env = (): Record<string, string> => ({ ...cluster.env(), ...TEST_TIMEOUTS });

  it('--json prints exactly one report, writes the picture, exits 0, and never the token', async () => {
    // Prepare
    const picture = join(mkdtempSync(join(tmpdir(), 'slotwatch-drill-')), 'drill.html');

    // Act
    const run = await runCli(
      'drill',
      ['--json', '--trigger', 'cluster-failover', '--report', picture],
      env(),
    );

    // Assess
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] ?? '') as DrillReport;
    expect(report).toMatchObject({ recovered: true, lostWrites: 0, trigger: 'cluster-failover' });
    expect(report).not.toHaveProperty('samples');
    expect(readFileSync(picture, 'utf8')).toContain('<svg');
    expect(run.stderr).toContain('recovered');
    expect(run.stdout + run.stderr).not.toContain(cluster.settings.token);
    // The process ends promptly once the drill is over: nothing left running.
    expect(run.ms).toBeLessThan(report.durationMs + 10_000);
    expect(await drillKeys()).toEqual([]);
  });

  it('exits 1 with the reason when the drill is aborted, in human form, without the token', async () => {
    // Act
    const run = await runCli('drill', ['--shard', '1-2'], env());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('ABORTED before the trigger: no shard "1-2" serves slots');
    expect(run.stdout).toMatch(/^ +\d+\.\d{3} {2}drill started/m);
    expect(run.stderr).toMatch(/^ +\d+\.\d{3} {2}drill started/m); // live, as it happened
    expect(run.stdout + run.stderr).not.toContain(cluster.settings.token);
  });

  it('exits 1 when the shard has not recovered within the time limit, and still cleans up', async () => {
    // Act: the primary is resumed at the time limit, under a second after it was stopped: too
    // soon for the cluster (node timeout 1 s) to fail it over.
    const run = await runCli(
      'drill',
      ['--json', '--trigger', 'pause-primary', '--time-limit-ms', '2000'],
      env(),
    );

    // Assess
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as DrillReport;
    expect(report.recovered).toBe(false);
    expect(events(report)).toEqual(
      expect.arrayContaining([
        'trigger',
        'time limit reached',
        'old primary resumed',
        'keys removed',
      ]),
    );
    expect(report.writeOutageMs).toBeGreaterThan(0);
    await cluster.waitHealthy();
    expect(await drillKeys()).toEqual([]);
  });

  it('continues a stopped primary from its watchdog when the drill process is killed outright', async () => {
    // Prepare: the state letter of a process (T: stopped), the third field of /proc/<pid>/stat.
    const state = (pid: number): string =>
      readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .charAt(0);

    // Act: SIGKILL (no exit hook runs) once the trigger has stopped the primary.
    const run = await runCli(
      'drill',
      ['--json', '--trigger', 'pause-primary', '--time-limit-ms', '3000'],
      env(),
      (stderr, signal) => {
        if (/ trigger +SIGSTOP/.test(stderr)) signal('SIGKILL');
      },
    );
    const pid = Number(/SIGSTOP pid (\d+)/.exec(run.stderr)?.[1]);
    const stoppedAfterKill = state(pid);

    // Assess: killed while the server was stopped; the watchdog continues it after the time
    // limit plus its grace, and the cluster heals.
    expect(run.code).toBeNull();
    expect(run.stdout).toBe('');
    expect(cluster.nodes.map((node) => node.pid)).toContain(pid);
    expect(stoppedAfterKill).toBe('T');
    await waitFor(
      'the watchdog to continue the primary',
      () => Promise.resolve(state(pid) === 'T' ? undefined : true),
      3000 + WATCHDOG_GRACE_MS + 5000,
    );
    await cluster.waitHealthy();
    // What the killed drill could not clean up (the keys would expire, the lock too).
    expect(await drillKeys()).toContain(LOCK_KEY);
    await removeDrillKeys();
    expect(await drillKeys()).toEqual([]);
  });

  it('exits 2 with one line naming a bad flag or variable', async () => {
    // Act
    const [badTrigger, badInterval] = await Promise.all([
      runCli('drill', ['--trigger', 'kill-9'], env()),
      runCli('drill', [], { ...env(), DRILL_WRITE_INTERVAL_MS: '500' }),
    ]);

    // Assess
    expect(badTrigger.code).toBe(2);
    expect(badTrigger.stdout).toBe('');
    expect(badTrigger.stderr).toBe(
      'slotwatch: --trigger must be one of cluster-failover, pause-primary, elasticache, got "kill-9"\n',
    );
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toMatch(/^slotwatch: DRILL_WRITE_INTERVAL_MS .*got "500"\n$/);
  });
});

describe('the drill Lambda handler', () => {
  const NAMESPACE = 'Test/SlotwatchDrill';
  const savedEnv = { ...process.env };
  let aws: FakeAws;

  beforeAll(async () => {
    aws = await startFakeAws();
  });
  afterAll(async () => {
    process.env = { ...savedEnv };
    vi.restoreAllMocks();
    await aws?.close();
    await onLockOwner(['DEL', ROTATION_KEY]);
  });

  it('takes the shards in turn and publishes DrillInProgress around the outcome metrics', async () => {
    // Prepare: a cold start with this environment, stdout captured.
    process.env = {
      PATH: savedEnv.PATH,
      ...cluster.env(),
      ...aws.env,
      ...TEST_TIMEOUTS,
      METRICS_NAMESPACE: NAMESPACE,
      DRILL_TRIGGER: 'cluster-failover',
    };
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    vi.resetModules();
    const { handler } = await import('../../lambda/handlers/drill.js');
    const context = { getRemainingTimeInMillis: () => 300_000 };

    // Act
    const first = await handler({}, context);
    await cluster.waitHealthy();
    const second = await handler({}, context);
    vi.restoreAllMocks();

    // Assess
    expect([first.shard, second.shard]).toEqual([FIRST_SHARD, '5461-10921']);
    expect([first.recovered, second.recovered]).toEqual([true, true]);
    expect(first).not.toHaveProperty('samples');
    const datums = aws.putMetricData.flatMap((request) =>
      request.body.MetricData.map((d) => ({
        name: d.MetricName,
        dimensions: (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).join(','),
        value: d.Value ?? d.Values?.[0],
      })),
    );
    const cluster_ = `Cluster=${first.cluster}`;
    expect(datums.filter((d) => d.name === 'DrillInProgress').map((d) => d.value)).toEqual([
      1, 0, 1, 0,
    ]);
    expect(datums).toContainEqual({ name: 'DrillRecovered', dimensions: cluster_, value: 1 });
    expect(datums).toContainEqual({ name: 'DrillAborted', dimensions: cluster_, value: 0 });
    expect(datums).toContainEqual({
      name: 'DrillLostWrites',
      dimensions: `${cluster_},Shard=${FIRST_SHARD}`,
      value: 0,
    });
    expect(datums.map((d) => d.name)).toEqual(
      expect.arrayContaining(['DrillWriteOutage', 'DrillReadOutage']),
    );
    const logLines = stdout
      .join('')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logLines.filter((line) => line.message === 'drill')).toHaveLength(2);
    expect(stdout.join('')).not.toContain(cluster.settings.token);
    expect(stdout.join('')).not.toContain('"samples"');
    expect(await drillKeys()).toEqual([ROTATION_KEY]);
  });
});
