/**
 * The drill report as text for a person at a terminal: the timeline (seconds since the start,
 * event, detail), then the figures. Pure: report in, text out.
 */
import type { DrillReport, TimelineEvent } from '../../lambda/drill/types.js';

const EVENT_WIDTH = 30;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** One timeline line, also used to print events live as they happen. */
export function renderEvent(event: TimelineEvent): string {
  const t = (event.t / 1000).toFixed(3).padStart(8);
  const detail = event.detail === undefined ? '' : event.detail;
  return `${t}  ${event.event.padEnd(EVENT_WIDTH)}${detail}`.trimEnd();
}

function outcome(report: DrillReport): string {
  if (report.aborted !== undefined) return `ABORTED before the trigger: ${report.aborted}`;
  if (!report.recovered) return 'NOT RECOVERED within the time limit';
  const recovered = report.timeline.find((event) => event.event === 'recovered');
  const trigger = report.timeline.find((event) => event.event === 'trigger');
  return recovered && trigger
    ? `recovered ${seconds(recovered.t - trigger.t)} after the trigger`
    : 'recovered';
}

function heading(report: DrillReport): string {
  return `failover drill of shard ${report.shard || '(none)'} on ${report.cluster}, trigger ${report.trigger}, started ${report.startedAt}`;
}

/**
 * The heading and the figures without the events: for a terminal that already showed the events
 * live as they happened.
 */
export function renderSummary(report: DrillReport): string {
  return [heading(report), '', renderFigures(report)].join('\n');
}

function renderFigures(report: DrillReport): string {
  const figures: [string, string][] = [
    ['outcome', outcome(report)],
    ['primary', `${report.oldPrimary || '(unknown)'} -> ${report.newPrimary || '(none observed)'}`],
    ['write outage', seconds(report.writeOutageMs)],
    [
      'read outage',
      `${seconds(report.readOutageMs)} (any node of the shard), ${seconds(report.primaryReadOutageMs)} via the primary, ${seconds(report.replicaReadOutageMs)} via the replicas`,
    ],
    [
      'writes',
      `${report.ackedWrites} acknowledged, ${report.lostWrites} lost${report.unverifiedWrites ? `, ${report.unverifiedWrites} not verified` : ''}`,
    ],
    ['duration', seconds(report.durationMs)],
  ];
  const width = Math.max(...figures.map(([name]) => name.length));
  return figures.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

/** The whole drill as text: heading, every event in time order, then the figures. */
export function renderTimeline(report: DrillReport): string {
  const events = [...report.timeline].sort((a, b) => a.t - b.t).map(renderEvent);
  return [
    heading(report),
    '',
    `${'t (s)'.padStart(8)}  ${'event'.padEnd(EVENT_WIDTH)}detail`,
    ...events,
    '',
    renderFigures(report),
  ].join('\n');
}
