/**
 * The one source of metric names, units and dimensions. The probe emits exactly these, and the
 * CDK alarms and dashboard (infra/) import them, so the two can never drift apart.
 */

export const DIMENSION = {
  cluster: 'Cluster',
  node: 'Node',
  role: 'Role',
  check: 'Check',
  shard: 'Shard',
} as const;
export type DimensionName = (typeof DIMENSION)[keyof typeof DIMENSION];

/** CloudWatch units slotwatch uses (a subset of the API's StandardUnit). */
export type MetricUnit = 'None' | 'Count' | 'Milliseconds';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly description: string;
}

const metric = (name: string, unit: MetricUnit, description: string): MetricDefinition => ({
  name,
  unit,
  description,
});

export const METRIC = {
  // CONTRACT section 4, dimension Cluster
  probeSuccess: metric(
    'ProbeSuccess',
    'None',
    "1 when the sweep's ok is true, else 0; published even when nothing could be reached",
  ),
  healthyNodes: metric('HealthyNodes', 'Count', 'nodes whose probes all passed'),
  totalNodes: metric('TotalNodes', 'Count', "nodes the cluster's topology lists"),
  sweepDuration: metric('SweepDuration', 'Milliseconds', 'wall time of the whole sweep'),
  crossSlotLatency: metric(
    'CrossSlotLatency',
    'Milliseconds',
    'multi-key write and read spanning every shard',
  ),
  // CONTRACT section 4, dimensions Cluster and Node
  nodeAvailable: metric('NodeAvailable', 'None', '1 when the node passed every probe, else 0'),
  pingLatency: metric('PingLatency', 'Milliseconds', 'PING round trip'),
  readLatency: metric('ReadLatency', 'Milliseconds', "GET of the shard's canary key on the node"),
  pipelineLatency: metric(
    'PipelineLatency',
    'Milliseconds',
    'five pipelined commands, one round trip',
  ),
  writeLatency: metric('WriteLatency', 'Milliseconds', 'SET with TTL on a primary'),
  replicationLag: metric(
    'ReplicationLag',
    'Milliseconds',
    "time until a replica serves its primary's fresh write",
  ),
  // Additions, dimension Cluster
  slotsCovered: metric(
    'SlotsCovered',
    'Count',
    'slots served by a reachable primary (16384 when whole)',
  ),
  reconnects: metric('Reconnects', 'Count', 'stale connections replaced during the sweep'),
  // Addition, dimensions Cluster and Check (crossSlot, slots, clusterState, slotMap)
  checkSuccess: metric('CheckSuccess', 'None', '1 when the cluster-wide check passed, else 0'),
  // The failover drill (issue 5), dimensions Cluster (and Shard where noted by the handler)
  drillInProgress: metric(
    'DrillInProgress',
    'None',
    '1 from the start of a drill until it ends, then 0',
  ),
  drillRecovered: metric(
    'DrillRecovered',
    'None',
    '1 when the drilled shard recovered within the time limit, else 0',
  ),
  drillWriteOutage: metric(
    'DrillWriteOutage',
    'Milliseconds',
    'first failed write to first successful write',
  ),
  drillReadOutage: metric(
    'DrillReadOutage',
    'Milliseconds',
    'the same for reads of the shard, replicas included',
  ),
  drillLostWrites: metric('DrillLostWrites', 'Count', 'acknowledged writes missing after recovery'),
  drillAborted: metric(
    'DrillAborted',
    'Count',
    '1 when a pre-check (or an interruption) ended the drill before its trigger, else 0',
  ),
} as const satisfies Record<string, MetricDefinition>;
export type MetricName = (typeof METRIC)[keyof typeof METRIC]['name'];

/** The probe behind each per-node latency metric. */
export const PROBE_METRIC = {
  ping: METRIC.pingLatency,
  read: METRIC.readLatency,
  pipeline: METRIC.pipelineLatency,
  write: METRIC.writeLatency,
  replication: METRIC.replicationLag,
} as const;

/**
 * Which probes each role runs, hence which (probe, role) latency series exist. The engine's
 * registry (lambda/probes/index.ts) must agree; a unit test holds them together.
 */
export const PROBES_BY_ROLE = {
  primary: ['ping', 'read', 'pipeline', 'write'],
  replica: ['ping', 'read', 'pipeline', 'replication'],
} as const satisfies Record<'primary' | 'replica', readonly (keyof typeof PROBE_METRIC)[]>;

/** Default CloudWatch namespace (METRICS_NAMESPACE overrides it). */
export const DEFAULT_NAMESPACE = 'Slotwatch';
