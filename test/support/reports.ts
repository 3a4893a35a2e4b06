/** Builders for hand-made topologies and node reports in unit tests. */
import type { Topology, TopologyNode } from '../../lambda/cluster/topology.js';
import type { NodeReport, ProbeResult, SweepReport } from '../../lambda/report.js';

export const nodeId = (n: number): string => n.toString(16).padStart(40, '0');

/** Three shards of one primary (ids 1-3) and one replica (ids 4-6), slots split like a fresh cluster. */
export function threeShardTopology(): Topology {
  const ranges = [
    { start: 0, end: 5460 },
    { start: 5461, end: 10922 },
    { start: 10923, end: 16383 },
  ];
  const shards = ranges.map((range, i) => ({
    id: `${range.start}-${range.end}`,
    slots: [range],
    primaryId: nodeId(i + 1),
    nodeIds: [nodeId(i + 1), nodeId(i + 4)],
  }));
  const node = (n: number, shard: number, role: 'primary' | 'replica'): TopologyNode => ({
    id: nodeId(n),
    host: '10.0.0.1',
    port: 7000 + n,
    address: `10.0.0.1:${7000 + n}`,
    role,
    shard: shards[shard]?.id ?? '',
    ...(role === 'replica' && { primaryId: nodeId(shard + 1) }),
    health: 'online',
    flags: [role === 'primary' ? 'master' : 'slave'],
  });
  return {
    source: 'CLUSTER SHARDS',
    shards,
    nodes: [
      node(1, 0, 'primary'),
      node(4, 0, 'replica'),
      node(2, 1, 'primary'),
      node(5, 1, 'replica'),
      node(3, 2, 'primary'),
      node(6, 2, 'replica'),
    ],
    migrations: [],
    handshakeNodes: 0,
  };
}

export const pass = (latencyMs: number): ProbeResult => ({ ok: true, latencyMs });
export const fail = (error: string): ProbeResult => ({ ok: false, latencyMs: null, error });

export function nodeReport(node: TopologyNode, probes: NodeReport['probes']): NodeReport {
  return {
    id: node.id,
    address: node.address,
    role: node.role,
    shard: node.shard,
    ok: Object.values(probes).every((p) => p.ok || p.skipped === true),
    probes,
    health: node.health,
    connectMs: 0,
    reconnects: 0,
  };
}

export function sweepReport(
  nodes: NodeReport[],
  overrides: Partial<SweepReport> = {},
): SweepReport {
  return {
    cluster: 'orders-cache',
    ok: nodes.every((n) => n.ok),
    startedAt: '2026-11-22T10:00:00.000Z',
    durationMs: 41.7,
    nodes,
    checks: {
      crossSlot: { ok: true, latencyMs: 2.1, shards: 3, keys: 6, redirects: 0 },
      slots: { ok: true, covered: 16384 },
      clusterState: { ok: true, failing: [] },
      slotMap: { ok: true, disagreeing: [] },
    },
    topology: { source: 'CLUSTER SHARDS', from: '10.0.0.1:7001', shards: 3 },
    reconnects: 0,
    ...overrides,
  };
}
