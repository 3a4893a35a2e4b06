/**
 * From the per-node costs the benchmark measured (a least-squares line through its clusters),
 * what a sweep and a Lambda invocation would take, and cost a month, for a cluster of any size.
 * Lambda gets CPU in proportion to its memory (1,769 MB is one vCPU), so the probe's CPU time
 * per sweep, not the wall time on this machine, decides its duration; the network adds round
 * trips that loopback does not have: the quiet window's PING samples one after another, and a
 * handful per node path that run in parallel.
 */
import { metricsCostPerMonth, MINUTES_PER_MONTH, syntheticReport } from './cost-model.js';
import { PING_SAMPLES } from '../lambda/probes/ping.js';
import { at, linearFit, type Line } from './stats.js';

/** us-east-1, arm64 (Lambda pricing page), first 7.5 billion GB-seconds a month. */
export const LAMBDA_PRICE = { perGbSecond: 0.0000133334, perMillionRequests: 0.2 } as const;
/** Memory at which a function gets one full vCPU. */
export const MB_PER_VCPU = 1769;

export const ASSUMPTIONS = {
  /** Round trip to a node inside the region (same AZ ~0.2 ms, across AZs ~0.5-1 ms). */
  rttMs: 0.5,
  /** Round trips a node's probes make one after another (ping, read, pipeline, write, view). */
  parallelRoundTrips: 8,
  /** One PutMetricData request through the interface endpoint. */
  publishRequestMs: 30,
} as const;

/** One cluster the benchmark ran. */
export interface MeasuredSize {
  readonly nodes: number;
  readonly warmP50Ms: number;
  readonly warmCpuMsPerSweep: number;
  readonly coldCpuMsPerSweep: number;
}

export interface Scenario {
  readonly label: string;
  readonly shards: number;
  readonly replicas: number;
  readonly memoryMb: number;
}

export const SCENARIOS: readonly Scenario[] = [
  { label: 'defaults', shards: 3, replicas: 1, memoryMb: 256 },
  { label: 'largest ElastiCache', shards: 250, replicas: 1, memoryMb: 256 },
  { label: 'largest ElastiCache', shards: 250, replicas: 1, memoryMb: 1024 },
];

export interface Projection {
  readonly scenario: Scenario;
  readonly nodes: number;
  /** Warm sweep on this machine's loopback, from the fitted line. */
  readonly localSweepMs: number;
  readonly cpuMsPerSweep: number;
  /** Warm sweep in Lambda: CPU at the memory's share of a vCPU, plus the network's round trips. */
  readonly lambdaSweepMs: number;
  /** A warm invocation of the default schedule (one sweep a minute): the sweep and publishing. */
  readonly invocationMs: number;
  /** The extra CPU time of the first sweep after a cold start (dialling every node). */
  readonly coldExtraMs: number;
  readonly putMetricDataPerSweep: number;
  readonly lambdaDollars: number;
  readonly metricsDollars: number;
}

export interface CostLines {
  readonly wall: Line;
  readonly cpu: Line;
  readonly coldCpu: Line;
}

export function fitCosts(sizes: readonly MeasuredSize[]): CostLines {
  return {
    wall: linearFit(sizes.map((s) => [s.nodes, s.warmP50Ms])),
    cpu: linearFit(sizes.map((s) => [s.nodes, s.warmCpuMsPerSweep])),
    coldCpu: linearFit(sizes.map((s) => [s.nodes, s.coldCpuMsPerSweep])),
  };
}

export function project(lines: CostLines, scenario: Scenario): Projection {
  const nodes = scenario.shards * (1 + scenario.replicas);
  const share = Math.min(1, scenario.memoryMb / MB_PER_VCPU);
  const cpuMsPerSweep = Math.max(0, at(lines.cpu, nodes));
  const network =
    nodes * PING_SAMPLES * ASSUMPTIONS.rttMs + ASSUMPTIONS.parallelRoundTrips * ASSUMPTIONS.rttMs;
  const lambdaSweepMs = cpuMsPerSweep / share + network;
  const report = syntheticReport(scenario.shards, scenario.replicas);
  const metrics = metricsCostPerMonth(report, 'all', 1);
  const invocationMs = lambdaSweepMs + metrics.requestsPerSweep * ASSUMPTIONS.publishRequestMs;
  const invocations = MINUTES_PER_MONTH;
  const gbSeconds = invocations * (invocationMs / 1000) * (scenario.memoryMb / 1024);
  return {
    scenario,
    nodes,
    localSweepMs: Math.max(0, at(lines.wall, nodes)),
    cpuMsPerSweep,
    lambdaSweepMs,
    invocationMs,
    coldExtraMs: Math.max(0, at(lines.coldCpu, nodes) - cpuMsPerSweep) / share,
    putMetricDataPerSweep: metrics.requestsPerSweep,
    lambdaDollars:
      gbSeconds * LAMBDA_PRICE.perGbSecond +
      (invocations / 1_000_000) * LAMBDA_PRICE.perMillionRequests,
    metricsDollars: metrics.metricsDollars + metrics.apiDollars,
  };
}
