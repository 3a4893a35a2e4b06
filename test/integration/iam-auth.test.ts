/**
 * CLUSTER_AUTH_MODE=iam against a real local TLS cluster. Every node gets an ACL user like the
 * ElastiCache RBAC user the CDK creates: the probe's access string from lambda/cluster/access-
 * string.ts, and as its password the IAM auth token this test derives independently (node:crypto,
 * test/support/sigv4-presign.ts) for fixed credentials and a fixed clock. A full sweep passing
 * under that user proves both the token and the access string; the clock is then moved on to see
 * the token re-signed and the kept connections AUTH again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DRILL_ACCESS_STRING, PROBE_ACCESS_STRING } from '../../infra/access-string.js';
import { loadConfig } from '../../lambda/config.js';
import { runDrill } from '../../lambda/drill/engine.js';
import { createLocalTrigger } from '../../tools/triggers/index.js';
import {
  IAM_REAUTH_AFTER_MS,
  IAM_TOKEN_REFRESH_AFTER_MS,
  IamTokenSource,
} from '../../lambda/iam-auth-token.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import { jsonLogger } from '../../lambda/log.js';
import { createSink } from '../../lambda/metrics/sink.js';
import { ProbeRunner } from '../../lambda/runner.js';
import { tokenSourceFor } from '../../lambda/token-source.js';
import { adminOn, isAlive, startTestCluster, TEST_TIMEOUTS } from '../support/cluster.js';
import { applyEnv } from '../support/fake-aws.js';
import { expectedConnectToken } from '../support/sigv4-presign.js';

const USER = 'slotwatch-probe';
const GROUP = 'orders-cache';
const REGION = 'eu-west-1';
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjE/+session=token',
};
const T0 = new Date('2026-12-01T14:00:00.000Z');

let cluster: LocalCluster;
let restoreEnv: () => void = () => undefined;

beforeAll(async () => {
  cluster = await startTestCluster();
});

afterAll(async () => {
  const pids = cluster?.nodes.map((node) => node.pid) ?? [];
  await cluster?.stop();
  expect(pids.filter(isAlive)).toEqual([]);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  restoreEnv();
});

/** Only Date is faked (the token's signing time, token and AUTH ages); timers run for real. */
function freezeClock(at: Date): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
}

const tokenAt = (date: Date, userId = USER): string =>
  expectedConnectToken({
    replicationGroupId: GROUP,
    userId,
    region: REGION,
    accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID,
    secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    sessionToken: CREDENTIALS.AWS_SESSION_TOKEN,
    date,
  });

/** On every node: an RBAC user like the CDK's, accepting exactly `password`. */
async function setUser(
  password: string,
  user = USER,
  accessString = PROBE_ACCESS_STRING,
): Promise<void> {
  for (const node of cluster.nodes) {
    await adminOn(cluster, node.port, async (admin) => {
      await admin.call('ACL', 'SETUSER', user, 'reset', `>${password}`, ...accessString.split(' '));
    });
  }
}
const setProbeUser = (password: string): Promise<void> => setUser(password);

/** Zeroes every node's command statistics (the admin connection's own AUTH comes before). */
async function resetStats(): Promise<void> {
  for (const node of cluster.nodes) {
    await adminOn(cluster, node.port, (admin) =>
      admin.call('CONFIG', 'RESETSTAT').then(() => undefined),
    );
  }
}

/**
 * Per node: the ids of the connections the probe user holds, and the AUTHs served since the last
 * resetStats() other than this admin connection's own.
 */
async function probeConnections(): Promise<{ ids: string[]; probeAuths: number }[]> {
  const result: { ids: string[]; probeAuths: number }[] = [];
  for (const node of cluster.nodes) {
    await adminOn(cluster, node.port, async (admin) => {
      const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'))
        .split('\n')
        .filter((line) => line.includes(` user=${USER} `));
      const stats = String(await admin.call('INFO', 'commandstats'));
      result.push({
        ids: clients.map((line) => /\bid=(\d+)/.exec(line)?.[1] ?? '?').sort(),
        probeAuths: Number(/cmdstat_auth:calls=(\d+)/.exec(stats)?.[1] ?? 0) - 1,
      });
    });
  }
  return result;
}

/** Sweeps once a minute, as the scheduled Lambda does, from `from` for `minutes` minutes. */
async function sweepEveryMinute(runner: ProbeRunner, from: Date, minutes: number): Promise<void> {
  for (let minute = 1; minute <= minutes; minute++) {
    vi.setSystemTime(new Date(from.getTime() + minute * 60_000));
    const { report } = await sweep(runner);
    expect(report.ok, `minute ${minute}: ${JSON.stringify(report)}`).toBe(true);
  }
}

/** The CLI's and handler's variables for iam mode: the cluster's, minus its AUTH token. */
function iamEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...cluster.env(), ...TEST_TIMEOUTS };
  delete env.CLUSTER_AUTH_TOKEN;
  return {
    ...env,
    CLUSTER_AUTH_MODE: 'iam',
    CLUSTER_USERNAME: USER,
    ELASTICACHE_REPLICATION_GROUP_ID: GROUP,
    AWS_REGION: REGION,
    ...extra,
  };
}

function iamRunner(lines: string[]): ProbeRunner {
  const config = loadConfig({ env: iamEnv(), defaultSink: 'none' });
  return new ProbeRunner(config, {
    sink: createSink('none', config.metricsNamespace),
    tokens: tokenSourceFor(config),
    log: jsonLogger((line) => lines.push(line)),
  });
}

const sweep = (runner: ProbeRunner) => runner.sweep({ deadlineMs: 4000, publishTimeoutMs: 1000 });

describe('CLUSTER_AUTH_MODE=iam', () => {
  it('sweeps every node as the RBAC user with the signed token; the access string suffices', async () => {
    // Prepare
    restoreEnv = applyEnv(CREDENTIALS);
    freezeClock(T0);
    await setProbeUser(tokenAt(T0));
    const lines: string[] = [];
    const runner = iamRunner(lines);

    try {
      // Act
      const { report } = await sweep(runner);

      // Assess
      expect(report.ok, JSON.stringify(report)).toBe(true);
      expect(report.nodes).toHaveLength(6);
      expect(Object.values(report.checks).every((check) => check.ok)).toBe(true);
      // Every node holds a connection of the probe user: none went in as `default`.
      const connections = await probeConnections();
      expect(connections.every(({ ids }) => ids.length >= 1)).toBe(true);
      expect(lines.join('\n')).not.toContain(tokenAt(T0));
      expect(lines.join('\n')).not.toContain('X-Amz-Signature');
    } finally {
      runner.close();
    }
  });

  it('re-signs after 10 minutes and AUTHs the kept connections again, without reconnecting', async () => {
    // Prepare: a warm runner whose connections authenticated at T0, swept every minute since.
    restoreEnv = applyEnv(CREDENTIALS);
    freezeClock(T0);
    await setProbeUser(tokenAt(T0));
    const lines: string[] = [];
    const runner = iamRunner(lines);
    try {
      expect((await sweep(runner)).report.ok).toBe(true);
      const before = await probeConnections();
      await sweepEveryMinute(runner, T0, 9);

      // Act: 10 minutes on, the cluster accepts only the token signed then.
      expect(IAM_REAUTH_AFTER_MS).toBe(IAM_TOKEN_REFRESH_AFTER_MS);
      const t1 = new Date(T0.getTime() + IAM_TOKEN_REFRESH_AFTER_MS);
      vi.setSystemTime(t1);
      await setProbeUser(tokenAt(t1));
      await resetStats();
      const { report } = await sweep(runner);
      const after = await probeConnections();

      // Assess: the same connections, each of which AUTHed once more, with the new token.
      expect(report.ok, JSON.stringify(report)).toBe(true);
      expect(report.reconnects).toBe(0);
      expect(after.map(({ ids }) => ids)).toEqual(before.map(({ ids }) => ids));
      expect(after.map(({ probeAuths }) => probeAuths)).toEqual(after.map(() => 1));

      // Act: 10 minutes later the user's password no longer matches what the probe signs.
      await sweepEveryMinute(runner, t1, 9);
      vi.setSystemTime(new Date(t1.getTime() + IAM_REAUTH_AFTER_MS));
      await setProbeUser('not-the-signed-token');
      const refused = (await sweep(runner)).report;

      // Assess: live connections are no excuse, every node fails on its re-AUTH.
      expect(refused.ok).toBe(false);
      expect(refused.error ?? '').toMatch(/^topology: auth: WRONGPASS/);
      expect(lines.join('\n')).not.toContain('X-Amz-Signature');
    } finally {
      runner.close();
    }
  });

  it('keeps its connections, with no AUTH, while their last AUTH is younger than 10 minutes', async () => {
    restoreEnv = applyEnv(CREDENTIALS);
    freezeClock(T0);
    await setProbeUser(tokenAt(T0));
    const runner = iamRunner([]);
    try {
      expect((await sweep(runner)).report.ok).toBe(true);
      const before = await probeConnections();
      await resetStats();

      await sweepEveryMinute(runner, T0, 9);

      const after = await probeConnections();
      expect(after.map(({ ids }) => ids)).toEqual(before.map(({ ids }) => ids));
      expect(after.map(({ probeAuths }) => probeAuths)).toEqual(after.map(() => 0));
    } finally {
      runner.close();
    }
  });

  it('reports a refused token as an auth failure and never shows it', async () => {
    // Prepare: the user exists, but its password is not the token the probe signs.
    restoreEnv = applyEnv(CREDENTIALS);
    freezeClock(T0);
    await setProbeUser(tokenAt(new Date(T0.getTime() - 60_000)));
    const lines: string[] = [];
    const runner = iamRunner(lines);

    try {
      // Act
      const { report } = await sweep(runner);

      // Assess
      expect(report.ok).toBe(false);
      expect(report.error ?? '').toMatch(/^topology: auth: WRONGPASS/);
      const everything = `${JSON.stringify(report)}\n${lines.join('\n')}`;
      expect(everything).not.toContain(tokenAt(T0));
      expect(everything).not.toContain('X-Amz-');
      expect(everything).not.toContain(CREDENTIALS.AWS_SESSION_TOKEN);
    } finally {
      runner.close();
    }
  });

  it('reports a sweep without credentials as an iam failure, without connecting', async () => {
    restoreEnv = applyEnv({
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
    });
    const runner = new ProbeRunner(loadConfig({ env: iamEnv(), defaultSink: 'none' }), {
      sink: createSink('none', 'Test'),
      tokens: tokenSourceFor(loadConfig({ env: iamEnv(), defaultSink: 'none' })),
      log: jsonLogger(() => undefined),
    });
    try {
      const { report } = await sweep(runner);

      expect(report.ok).toBe(false);
      expect(report.error ?? '').toMatch(
        /^iam: cannot sign an IAM auth token for user slotwatch-probe of orders-cache: /,
      );
      expect(report.nodes).toEqual([]);
    } finally {
      runner.close();
    }
  });
});

describe('the probe handler with CLUSTER_AUTH_MODE=iam', () => {
  it('signs with the function credentials from the environment and passes', async () => {
    // Prepare: a cold start with the Lambda's variables (credentials, AWS_REGION) and EMF.
    const saved = { ...process.env };
    process.env = { PATH: saved.PATH, ...iamEnv({ METRICS_SINK: 'emf' }), ...CREDENTIALS };
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    freezeClock(T0);
    await setProbeUser(tokenAt(T0));
    vi.resetModules();
    try {
      const { handler } = await import('../../lambda/handlers/probe.js');

      // Act
      const summary = await handler({}, { getRemainingTimeInMillis: () => 30_000 });

      // Assess
      expect(summary.ok, stdout.join('')).toBe(true);
      expect(summary.sweeps[0]).toMatchObject({ ok: true, healthyNodes: 6, totalNodes: 6 });
      expect(stdout.join('')).toContain('"ProbeSuccess"');
      expect(stdout.join('')).not.toContain('X-Amz-Signature');
    } finally {
      process.env = saved;
    }
  });
});

describe('the failover drill with CLUSTER_AUTH_MODE=iam', () => {
  it('runs under its own RBAC user with the drill access string and signed tokens', async () => {
    // Prepare: the drill's user; tokens signed for a fixed time, the drill's own clock real.
    const drillUser = 'slotwatch-drill';
    await setUser(tokenAt(T0, drillUser), drillUser, DRILL_ACCESS_STRING);
    const config = loadConfig({
      env: iamEnv({ CLUSTER_USERNAME: drillUser }),
      defaultSink: 'none',
    });
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = CREDENTIALS;
    const tokens = new IamTokenSource({
      target: config.iam ?? { replicationGroupId: '', userId: '', region: '' },
      credentials: () =>
        Promise.resolve({
          accessKeyId: AWS_ACCESS_KEY_ID,
          secretAccessKey: AWS_SECRET_ACCESS_KEY,
          sessionToken: AWS_SESSION_TOKEN,
        }),
      now: () => T0.getTime(),
    });
    const events: string[] = [];

    try {
      // Act
      const report = await runDrill({
        config,
        token: await tokens.current(),
        tokens,
        trigger: await createLocalTrigger('pause-primary', {}),
        rotate: true,
        timeLimitMs: 30_000,
        writeIntervalMs: 50,
        readIntervalMs: 100,
        onEvent: (event) => events.push(event.event),
      });

      // Assess: pre-checks, lock, rotation key, streams, read-back and clean-up all allowed.
      expect(report.aborted, JSON.stringify(report.timeline)).toBeUndefined();
      expect(report).toMatchObject({ recovered: true, lostWrites: 0, trigger: 'pause-primary' });
      expect(report.ackedWrites).toBeGreaterThan(0);
      expect(events).toEqual(expect.arrayContaining(['pre-checks passed', 'keys removed']));
      expect(JSON.stringify(report)).not.toContain('X-Amz-');
    } finally {
      await cluster.waitHealthy();
    }
  });
});
