import { describe, expect, it } from 'vitest';
import { buildDatums, nodeDimension } from '../../lambda/metrics/datums.js';
import type { MetricDatum } from '../../lambda/metrics/datum.js';
import { fail, nodeReport, pass, sweepReport, threeShardTopology } from '../support/reports.js';

const topology = threeShardTopology();
const healthyNodes = () =>
  topology.nodes.map((node) =>
    nodeReport(
      node,
      node.role === 'primary'
        ? { ping: pass(0.4), read: pass(0.5), pipeline: pass(0.7), write: pass(0.6) }
        : { ping: pass(0.3), read: pass(0.45), pipeline: pass(0.65), replication: pass(1.5) },
    ),
  );

const find = (datums: MetricDatum[], name: string, dims: Record<string, string>) =>
  datums.filter(
    (d) =>
      d.name === name &&
      d.dimensions.length === Object.keys(dims).length &&
      d.dimensions.every((dim) => dims[dim.name] === dim.value),
  );

describe('buildDatums', () => {
  it('emits the CONTRACT metrics for a healthy sweep, with units and the sweep start as timestamp', () => {
    // Act
    const datums = buildDatums(sweepReport(healthyNodes()), { highResolution: false });

    // Assess
    const cluster = { Cluster: 'orders-cache' };
    expect(find(datums, 'ProbeSuccess', cluster)).toMatchObject([{ unit: 'None', values: [1] }]);
    expect(find(datums, 'HealthyNodes', cluster)).toMatchObject([{ unit: 'Count', values: [6] }]);
    expect(find(datums, 'TotalNodes', cluster)).toMatchObject([{ unit: 'Count', values: [6] }]);
    expect(find(datums, 'SweepDuration', cluster)).toMatchObject([
      { unit: 'Milliseconds', values: [41.7] },
    ]);
    expect(find(datums, 'CrossSlotLatency', cluster)).toMatchObject([
      { unit: 'Milliseconds', values: [2.1] },
    ]);
    expect(find(datums, 'NodeAvailable', { ...cluster, Node: '10.0.0.1:7001' })).toMatchObject([
      { values: [1] },
    ]);
    expect(find(datums, 'WriteLatency', { ...cluster, Node: '10.0.0.1:7001' })).toMatchObject([
      { values: [0.6] },
    ]);
    expect(find(datums, 'ReplicationLag', { ...cluster, Node: '10.0.0.1:7004' })).toMatchObject([
      { values: [1.5] },
    ]);
    expect(find(datums, 'WriteLatency', { ...cluster, Node: '10.0.0.1:7004' })).toEqual([]);
    for (const datum of datums) {
      expect(datum.timestamp.toISOString()).toBe('2026-11-22T10:00:00.000Z');
      expect(datum.highResolution).toBe(false);
      expect(datum.dimensions[0]).toEqual({ name: 'Cluster', value: 'orders-cache' });
    }
  });

  it('adds per-role aggregates with one sample per node, and per-check success', () => {
    const datums = buildDatums(sweepReport(healthyNodes()), { highResolution: true });
    expect(find(datums, 'PingLatency', { Cluster: 'orders-cache', Role: 'primary' })).toMatchObject(
      [{ values: [0.4, 0.4, 0.4] }],
    );
    expect(
      find(datums, 'ReplicationLag', { Cluster: 'orders-cache', Role: 'replica' }),
    ).toMatchObject([{ values: [1.5, 1.5, 1.5] }]);
    expect(
      find(datums, 'HealthyNodes', { Cluster: 'orders-cache', Role: 'replica' }),
    ).toMatchObject([{ values: [3] }]);
    expect(
      find(datums, 'CheckSuccess', { Cluster: 'orders-cache', Check: 'crossSlot' }),
    ).toMatchObject([{ values: [1] }]);
    expect(datums.every((d) => d.highResolution)).toBe(true);
  });

  it('gives no latency datum for a failed probe, and zeros where the sweep failed', () => {
    // Prepare: the first primary is down.
    const nodes = healthyNodes();
    nodes[0] = nodeReport(topology.nodes[0]!, {
      ping: fail('timeout after 1000 ms (reply)'),
      read: fail('not attempted: timeout'),
    });
    const report = sweepReport(nodes, {
      ok: false,
      checks: {
        crossSlot: { ok: false, latencyMs: null, shards: 3, error: 'crossSlot: timeout' },
        slots: { ok: false, covered: 10923, uncovered: '0-5460' },
        clusterState: { ok: true, failing: [] },
        slotMap: { ok: true, disagreeing: [] },
      },
    });

    // Act
    const datums = buildDatums(report, { highResolution: false });

    // Assess
    const down = { Cluster: 'orders-cache', Node: '10.0.0.1:7001' };
    expect(find(datums, 'NodeAvailable', down)).toMatchObject([{ values: [0] }]);
    expect(find(datums, 'PingLatency', down)).toEqual([]);
    expect(find(datums, 'ProbeSuccess', { Cluster: 'orders-cache' })).toMatchObject([
      { values: [0] },
    ]);
    expect(find(datums, 'HealthyNodes', { Cluster: 'orders-cache' })).toMatchObject([
      { values: [5] },
    ]);
    expect(find(datums, 'CrossSlotLatency', { Cluster: 'orders-cache' })).toEqual([]);
    expect(find(datums, 'SlotsCovered', { Cluster: 'orders-cache' })).toMatchObject([
      { values: [10923] },
    ]);
    expect(
      find(datums, 'CheckSuccess', { Cluster: 'orders-cache', Check: 'crossSlot' }),
    ).toMatchObject([{ values: [0] }]);
    expect(find(datums, 'PingLatency', { Cluster: 'orders-cache', Role: 'primary' })).toMatchObject(
      [{ values: [0.4, 0.4] }],
    );
  });

  it('still says ProbeSuccess 0 for a sweep that reached no node at all', () => {
    const datums = buildDatums(sweepReport([], { ok: false, error: 'topology: refused' }), {
      highResolution: false,
    });
    expect(find(datums, 'ProbeSuccess', { Cluster: 'orders-cache' })).toMatchObject([
      { values: [0] },
    ]);
    expect(find(datums, 'TotalNodes', { Cluster: 'orders-cache' })).toMatchObject([
      { values: [0] },
    ]);
    expect(
      datums.some((d) => d.dimensions.some((dim) => dim.name === 'Node' || dim.name === 'Role')),
    ).toBe(false);
  });

  it('keeps only NodeAvailable per node, or no per-node metric at all, when asked', () => {
    const all = buildDatums(sweepReport(healthyNodes()), { highResolution: false });
    const availability = buildDatums(sweepReport(healthyNodes()), {
      highResolution: false,
      perNode: 'availability',
    });
    const perNodeNames = availability
      .filter((d) => d.dimensions.some((dim) => dim.name === 'Node'))
      .map((d) => d.name);
    expect(new Set(perNodeNames)).toEqual(new Set(['NodeAvailable']));
    expect(perNodeNames).toHaveLength(6);
    const aggregates = buildDatums(sweepReport(healthyNodes()), {
      highResolution: false,
      perNode: 'none',
    });
    expect(aggregates.some((d) => d.dimensions.some((dim) => dim.name === 'Node'))).toBe(false);
    expect(aggregates).toEqual(all.filter((d) => !d.dimensions.some((dim) => dim.name === 'Node')));
    expect(find(aggregates, 'HealthyNodes', { Cluster: 'orders-cache' })).toMatchObject([
      { values: [6] },
    ]);
  });

  it('never emits a value that is not finite', () => {
    const nodes = healthyNodes();
    nodes[1] = {
      ...nodes[1]!,
      probes: { ping: pass(Number.NaN), read: pass(Number.POSITIVE_INFINITY) },
    };
    const datums = buildDatums(sweepReport(nodes, { durationMs: Number.NaN }), {
      highResolution: false,
    });
    expect(datums.flatMap((d) => d.values).every(Number.isFinite)).toBe(true);
    expect(find(datums, 'SweepDuration', { Cluster: 'orders-cache' })).toEqual([]);
    expect(find(datums, 'PingLatency', { Cluster: 'orders-cache', Node: '10.0.0.1:7004' })).toEqual(
      [],
    );
  });
});

describe('nodeDimension', () => {
  it.each([
    ['orders-0001-001.orders.abc123.use1.cache.amazonaws.com:6379', 'orders-0001-001'],
    ['orders-0002-002.orders.x9y8z7.cnn1.cache.amazonaws.com.cn:6379', 'orders-0002-002'],
    ['10.0.1.12:6379', '10.0.1.12:6379'],
    ['localhost:7001', 'localhost:7001'],
    ['[::1]:7001', '[::1]:7001'],
  ])('names %s as %s', (address, name) => {
    expect(nodeDimension(address)).toBe(name);
  });
});

describe('the role -> probes table shared with the dashboard', () => {
  it('matches the probes the engine runs for each role', async () => {
    const { PROBES_BY_ROLE: engine } = await import('../../lambda/probes/index.js');
    const { PROBES_BY_ROLE: names } = await import('../../lambda/metrics/names.js');
    expect(engine.primary.map(([name]) => name)).toEqual(names.primary);
    expect(engine.replica.map(([name]) => name)).toEqual(names.replica);
  });
});
