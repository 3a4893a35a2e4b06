/**
 * `npm run cost-model`: what slotwatch's metrics cost a month at CloudWatch list prices, computed
 * with the real datum builder, PutMetricData batching and EMF encoding on synthetic sweeps of
 * 6, 36 and 500 nodes, for one sweep a minute and for six (every 10 s).
 */
import { pathToFileURL } from 'node:url';
import { buildDatums } from '../lambda/metrics/datums.js';
import { toPutMetricDataBatches } from '../lambda/metrics/cloudwatch.js';
import { toEmfDocuments } from '../lambda/metrics/emf.js';
import type { NodeReport, SweepReport } from '../lambda/report.js';

/** us-east-1 list prices (CloudWatch pricing page). */
export const PRICE = {
  /** Per metric-month, first 10,000 metrics; the next 240,000 cost 0.10. */
  metricFirst10k: 0.3,
  metricNext240k: 0.1,
  perThousandRequests: 0.01,
  /** Logs ingestion per GB (standard class): what EMF costs instead of PutMetricData. */
  logsPerGb: 0.5,
};
export const MINUTES_PER_MONTH = 730 * 60;

export function metricCost(metrics: number): number {
  return (
    Math.min(metrics, 10_000) * PRICE.metricFirst10k +
    Math.max(0, metrics - 10_000) * PRICE.metricNext240k
  );
}

export function syntheticReport(shards: number, replicasPerShard: number): SweepReport {
  const nodes: NodeReport[] = [];
  for (let shard = 0; shard < shards; shard++) {
    for (let r = 0; r <= replicasPerShard; r++) {
      const role = r === 0 ? 'primary' : 'replica';
      const address = `orders-${String(shard + 1).padStart(4, '0')}-${String(r + 1).padStart(3, '0')}.orders.abc123.use1.cache.amazonaws.com:6379`;
      const ok = { ok: true as const, latencyMs: 0.512 };
      nodes.push({
        id: (shard * 10 + r).toString(16).padStart(40, '0'),
        address,
        role,
        shard: `shard-${shard}`,
        ok: true,
        probes:
          role === 'primary'
            ? { ping: ok, read: ok, pipeline: ok, write: ok }
            : { ping: ok, read: ok, pipeline: ok, replication: ok },
        health: 'online',
        connectMs: 0,
        reconnects: 0,
      });
    }
  }
  return {
    cluster: 'orders',
    ok: true,
    startedAt: '2026-11-22T10:00:00.000Z',
    durationMs: 41.7,
    nodes,
    checks: {
      crossSlot: { ok: true, latencyMs: 2.1, shards, keys: shards * 2, redirects: 0 },
      slots: { ok: true, covered: 16384 },
      clusterState: { ok: true, failing: [] },
      slotMap: { ok: true, disagreeing: [] },
    },
    topology: { source: 'CLUSTER SHARDS', from: nodes[0]?.address ?? '', shards },
    reconnects: 0,
  };
}

/** What the metrics of `report`'s shape cost a month at `sweepsPerMinute` sweeps a minute. */
export function metricsCostPerMonth(
  report: SweepReport,
  perNode: 'all' | 'availability' | 'none',
  sweepsPerMinute: number,
): { metrics: number; requestsPerSweep: number; metricsDollars: number; apiDollars: number } {
  const datums = buildDatums(report, { highResolution: false, perNode });
  const requestsPerSweep = toPutMetricDataBatches('Slotwatch', datums).length;
  const sweeps = MINUTES_PER_MONTH * sweepsPerMinute;
  return {
    metrics: datums.length,
    requestsPerSweep,
    metricsDollars: metricCost(datums.length),
    apiDollars: ((requestsPerSweep * sweeps) / 1000) * PRICE.perThousandRequests,
  };
}

function printTable(): void {
  const dollars = (value: number): string => `$${value.toFixed(2)}`;

  const rows: string[][] = [];
  for (const [shards, replicas] of [
    [3, 1],
    [12, 2],
    [250, 1],
  ] as const) {
    const report = syntheticReport(shards, replicas);
    for (const perNode of ['all', 'availability', 'none'] as const) {
      const datums = buildDatums(report, { highResolution: false, perNode });
      const requestsPerSweep = toPutMetricDataBatches('Slotwatch', datums).length;
      const emfBytesPerSweep = toEmfDocuments('Slotwatch', datums).reduce(
        (sum, doc) => sum + JSON.stringify(doc).length + 1,
        0,
      );
      for (const sweepsPerMinute of [1, 6]) {
        const sweeps = MINUTES_PER_MONTH * sweepsPerMinute;
        const { metricsDollars: metrics, apiDollars: api } = metricsCostPerMonth(
          report,
          perNode,
          sweepsPerMinute,
        );
        const emf = ((emfBytesPerSweep * sweeps) / 1024 ** 3) * PRICE.logsPerGb;
        rows.push([
          `${report.nodes.length} (${shards}x${replicas})`,
          {
            all: 'all',
            availability: 'NodeAvailable per node, aggregates',
            none: 'aggregates only',
          }[perNode],
          sweepsPerMinute === 1 ? '1 min' : '10 s',
          String(datums.length),
          String(requestsPerSweep),
          (requestsPerSweep * sweeps).toLocaleString('en-US'),
          dollars(metrics),
          dollars(api),
          dollars(metrics + api),
          dollars(metrics + emf),
        ]);
      }
    }
  }

  const header = [
    'nodes',
    'metrics',
    'every',
    'custom metrics',
    'requests / sweep',
    'requests / month',
    'metrics $',
    'API $',
    'cloudwatch sink $ / month',
    'emf sink $ / month',
  ];
  process.stdout.write(
    [
      `| ${header.join(' | ')} |`,
      `| ${header.map(() => '---').join(' | ')} |`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
    ].join('\n') + '\n',
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printTable();
