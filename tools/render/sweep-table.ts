/** Renders a sweep report as the human table of `npm run probe`. Pure: report in, text out. */
import type { NodeReport, ProbeResult, SlotMapCheck, SweepReport } from '../../lambda/report.js';

const COLUMNS = ['ping', 'read', 'pipeline', 'write', 'replication'] as const;

function cell(
  result: ProbeResult | undefined,
  footnotes: string[],
  node: NodeReport,
  probe: string,
): string {
  if (result === undefined) return '-';
  if (result.ok) return `${result.latencyMs.toFixed(2)}ms`;
  footnotes.push(`${node.address} ${probe}: ${result.error}`);
  return `${result.skipped ? 'skip' : 'FAIL'}[${footnotes.length}]`;
}

function pad(rows: readonly (readonly string[])[]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((text, column) => text.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

export function renderReport(report: SweepReport, heading?: string): string {
  const footnotes: string[] = [];
  const header = [
    'NODE',
    'ROLE',
    'SHARD',
    'OK',
    ...COLUMNS.map((c) => (c === 'replication' ? 'REPL' : c.toUpperCase())),
  ];
  const rows = report.nodes.map((node) => [
    node.address,
    node.role,
    node.shard,
    node.ok ? 'ok' : 'FAIL',
    ...COLUMNS.map((probe) => cell(node.probes[probe], footnotes, node, probe)),
  ]);
  const { crossSlot, slots, clusterState, slotMap } = report.checks;
  const healthy = report.nodes.filter((n) => n.ok).length;
  const lines = [
    ...(heading ? [heading] : []),
    ...(report.nodes.length > 0 ? pad([header, ...rows]) : ['(no nodes known)']),
    ...footnotes.map((note, i) => `  [${i + 1}] ${note}`),
    crossSlot.ok
      ? `crossSlot      ok    ${crossSlot.latencyMs.toFixed(2)}ms, ${crossSlot.keys} keys over ${crossSlot.shards} shards, ${crossSlot.redirects} redirects`
      : `crossSlot      FAIL  ${crossSlot.error}`,
    `slots          ${slots.ok ? 'ok  ' : 'FAIL'}  ${slots.covered}/16384 served by a reachable primary${slots.uncovered ? ` (uncovered: ${slots.uncovered})` : ''}`,
    `cluster_state  ${clusterState.ok ? 'ok  ' : 'FAIL'}  ${clusterState.ok ? 'ok on every node that answered' : `not ok on ${clusterState.failing.join(', ')}`}`,
    `slot map       ${slotMap.ok ? 'ok  ' : 'FAIL'}  ${slotMapText(slotMap)}`,
    ...(report.error ? [`error          ${report.error}`] : []),
    `${report.ok ? 'OK  ' : 'FAIL'} ${report.cluster}: ${healthy}/${report.nodes.length} nodes healthy, ${report.topology.shards} shards, sweep ${report.durationMs.toFixed(1)}ms, ${report.reconnects} reconnects`,
  ];
  return lines.join('\n');
}

function slotMapText(check: SlotMapCheck): string {
  if (!check.ok) return `disagreeing: ${check.disagreeing.join(', ')}`;
  if (check.settling)
    return `settling (slots just moved, not yet known there): ${check.settling.join(', ')}`;
  return 'every node that answered agrees';
}
