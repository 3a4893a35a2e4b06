import { describe, expect, it } from 'vitest';
import { drillDatums, drillInProgressDatum } from '../../lambda/drill/datums.js';
import { parseInfo, replicationOf } from '../../lambda/drill/replica-sync.js';
import { nextShardIndex } from '../../lambda/drill/rotation.js';
import { isLocalHost, listeningInodes, programOf } from '../../tools/triggers/local-process.js';
import type { DrillReport } from '../../lambda/drill/types.js';

describe('parseInfo and replicationOf', () => {
  it('reads a replica and a primary', () => {
    // Prepare
    const replica =
      '# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:1234\r\n';
    const primary = '# Replication\nrole:master\nconnected_slaves:1\nmaster_repl_offset:2000\n\n';

    // Act & Assess
    expect(replicationOf(parseInfo(replica))).toEqual({
      role: 'slave',
      linkUp: true,
      offset: 1234,
    });
    expect(replicationOf(parseInfo(primary))).toEqual({
      role: 'master',
      linkUp: false,
      offset: 2000,
    });
    expect(parseInfo('# Server\nexecutable:/usr/bin/redis-server\n').get('executable')).toBe(
      '/usr/bin/redis-server',
    );
  });
});

describe('nextShardIndex', () => {
  it.each([
    [null, 3, 0],
    ['0', 3, 1],
    ['2', 3, 0],
    ['7', 3, 2],
    ['garbage', 3, 0],
    ['-1', 3, 0],
    ['1', 0, 0],
  ])('after %j of %i shards comes %i', (last, count, next) => {
    expect(nextShardIndex(last, count)).toBe(next);
  });
});

describe('local-process helpers', () => {
  it('knows local hosts', () => {
    const interfaces = ['10.0.0.5', 'fe80::1'];
    expect(isLocalHost('127.0.0.1', interfaces)).toBe(true);
    expect(isLocalHost('127.3.4.5', interfaces)).toBe(true);
    expect(isLocalHost('::1', interfaces)).toBe(true);
    expect(isLocalHost('[::1]', interfaces)).toBe(true);
    expect(isLocalHost('::ffff:127.0.0.1', interfaces)).toBe(true);
    expect(isLocalHost('localhost', interfaces)).toBe(true);
    expect(isLocalHost('10.0.0.5', interfaces)).toBe(true);
    expect(isLocalHost('10.0.0.6', interfaces)).toBe(false);
    expect(isLocalHost('orders-0001-001.abc.use1.cache.amazonaws.com', interfaces)).toBe(false);
  });

  it('finds the program of a command line, with or without a proc title', () => {
    expect(programOf('/usr/bin/redis-server\0/tmp/node/redis.conf\0')).toBe('redis-server');
    expect(programOf('/usr/bin/valkey-server 127.0.0.1:7001 [cluster]\0\0\0')).toBe(
      'valkey-server',
    );
    expect(programOf('')).toBe('');
  });

  it('finds the sockets listening on a port in /proc/net/tcp', () => {
    // Prepare: 0x1B59 = 7001; state 0A = LISTEN, 01 = ESTABLISHED.
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1B59 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0',
      '   1: 0100007F:1B59 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0 20 4 30 10 -1',
      '   2: 0100007F:1B5A 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0 100 0 0 10 0',
    ].join('\n');

    // Act & Assess
    expect([...listeningInodes(table, 7001)]).toEqual(['4242']);
    expect([...listeningInodes(table, 6379)]).toEqual([]);
  });
});

describe('drill datums', () => {
  const report: DrillReport = {
    cluster: 'orders',
    shard: '0-5460',
    trigger: 'elasticache',
    oldPrimary: 'a:6379',
    newPrimary: 'b:6379',
    startedAt: '2026-11-22T10:00:00.000Z',
    recovered: true,
    writeOutageMs: 8400,
    readOutageMs: 1200,
    primaryReadOutageMs: 8500,
    replicaReadOutageMs: 0,
    ackedWrites: 412,
    lostWrites: 0,
    durationMs: 30_000,
    timeline: [{ t: 1000, event: 'trigger' }],
  };

  it('publishes the outcome per cluster and the measurements per cluster and shard', () => {
    // Act
    const datums = drillDatums(report, false);

    // Assess
    expect(
      datums.map((d) => [d.name, d.dimensions.map((x) => x.value).join('/'), d.values[0]]),
    ).toEqual([
      ['DrillAborted', 'orders', 0],
      ['DrillRecovered', 'orders', 1],
      ['DrillWriteOutage', 'orders', 8400],
      ['DrillWriteOutage', 'orders/0-5460', 8400],
      ['DrillReadOutage', 'orders', 1200],
      ['DrillReadOutage', 'orders/0-5460', 1200],
      ['DrillLostWrites', 'orders', 0],
      ['DrillLostWrites', 'orders/0-5460', 0],
    ]);
    expect(datums.every((d) => d.timestamp.toISOString() === report.startedAt)).toBe(true);
  });

  it('publishes only DrillAborted for a drill aborted before its trigger: nothing was measured', () => {
    const aborted = { ...report, recovered: false, aborted: 'lock held', timeline: [] };
    expect(drillDatums(aborted, false)).toEqual([
      {
        name: 'DrillAborted',
        unit: 'Count',
        dimensions: [{ name: 'Cluster', value: 'orders' }],
        values: [1],
        timestamp: new Date(report.startedAt),
        highResolution: false,
      },
    ]);
  });

  it('says whether a drill is in progress', () => {
    const datum = drillInProgressDatum('orders', true, new Date(0), true);
    expect(datum).toMatchObject({
      name: 'DrillInProgress',
      unit: 'None',
      values: [1],
      highResolution: true,
    });
  });
});
