/**
 * The drill as a picture (`npm run drill -- --report FILE`): one self-contained HTML page with an
 * SVG chart, a row per stream (the writer, reads routed to the primary, reads from each node),
 * every sample a tick coloured by success, the timeline's events as marked vertical lines, and
 * the figures above it. Pure: report in, HTML out; no script, no external resource.
 */
import type { DrillReport, Sample } from '../../lambda/drill/types.js';

const WIDTH = 1100;
const LEFT = 190;
const RIGHT = 30;
const ROW = 34;
const TOP = 40;
const OK_COLOUR = '#2e9e5b';
const FAIL_COLOUR = '#d64545';

const escape = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Streams in a stable, readable order: the writer, primary reads, then each node. */
function streamsOf(samples: readonly Sample[]): string[] {
  const rank = (stream: string): number =>
    stream === 'write' ? 0 : stream === 'read:primary' ? 1 : 2;
  return [...new Set(samples.map((s) => s.stream))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
}

const label = (stream: string): string =>
  stream === 'write'
    ? 'writes (primary)'
    : stream === 'read:primary'
      ? 'reads via primary'
      : `reads ${stream.slice('read:'.length)}`;

function chart(report: DrillReport): string {
  const samples = report.samples ?? [];
  const streams = streamsOf(samples);
  const end = Math.max(
    report.durationMs,
    ...samples.map((s) => s.t),
    ...report.timeline.map((e) => e.t),
    1,
  );
  const x = (t: number): number => LEFT + (t / end) * (WIDTH - LEFT - RIGHT);
  const height = TOP + Math.max(streams.length, 1) * ROW + 60;
  const tick = Math.max(
    1,
    (WIDTH - LEFT - RIGHT) / Math.max(samples.length / Math.max(streams.length, 1), 1),
  );
  const rows = streams.map((stream, i) => {
    const y = TOP + i * ROW;
    const marks = samples
      .filter((s) => s.stream === stream)
      .map(
        (s) =>
          `<rect x="${x(s.t).toFixed(1)}" y="${y + 6}" width="${Math.min(tick, 6).toFixed(1)}" height="${ROW - 14}" fill="${s.ok ? OK_COLOUR : FAIL_COLOUR}"><title>${escape(`${(s.t / 1000).toFixed(2)} s ${s.ok ? 'ok' : `failed: ${s.error ?? ''}`}`)}</title></rect>`,
      )
      .join('');
    return `<text x="${LEFT - 10}" y="${y + ROW / 2 + 4}" text-anchor="end" class="label">${escape(label(stream))}</text><line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y + ROW - 4}" y2="${y + ROW - 4}" class="grid"/>${marks}`;
  });
  const bottom = TOP + Math.max(streams.length, 1) * ROW;
  const events = report.timeline.map((event, i) => {
    const ex = x(event.t).toFixed(1);
    const ly = TOP - 8 - (i % 3) * 11;
    return `<line x1="${ex}" x2="${ex}" y1="${TOP - 4}" y2="${bottom}" class="event"/><text x="${ex}" y="${ly}" class="event-label">${escape(event.event)}</text>`;
  });
  const seconds = Math.ceil(end / 1000);
  const step = Math.max(1, Math.ceil(seconds / 12));
  const axis = Array.from({ length: Math.floor(seconds / step) + 1 }, (_, i) => i * step).map(
    (s) =>
      `<text x="${x(s * 1000).toFixed(1)}" y="${bottom + 18}" text-anchor="middle" class="axis">${s}s</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="drill timeline">
<style>.label{font:13px sans-serif;fill:#222}.axis{font:11px sans-serif;fill:#555}.grid{stroke:#ddd}.event{stroke:#6a5acd;stroke-dasharray:4 3}.event-label{font:11px sans-serif;fill:#6a5acd}</style>
${events.join('\n')}
${rows.join('\n')}
${axis.join('')}
<text x="${LEFT}" y="${bottom + 40}" class="axis">green: succeeded, red: failed; dashed lines: timeline events (hover a tick for its error)</text>
</svg>`;
}

function figures(report: DrillReport): string {
  const rows: [string, string][] = [
    [
      'outcome',
      report.aborted
        ? `aborted: ${report.aborted}`
        : report.recovered
          ? 'recovered'
          : 'NOT recovered within the time limit',
    ],
    ['trigger', report.trigger],
    ['shard', report.shard],
    ['primary', `${report.oldPrimary} → ${report.newPrimary || '(none observed)'}`],
    ['write outage', `${(report.writeOutageMs / 1000).toFixed(2)} s`],
    ['read outage (any node of the shard)', `${(report.readOutageMs / 1000).toFixed(2)} s`],
    ['read outage via the primary', `${(report.primaryReadOutageMs / 1000).toFixed(2)} s`],
    ['read outage via replicas', `${(report.replicaReadOutageMs / 1000).toFixed(2)} s`],
    ['acknowledged writes', String(report.ackedWrites)],
    ['lost writes', String(report.lostWrites)],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</table>`;
}

export function renderDrillHtml(report: DrillReport): string {
  const title = `slotwatch drill: ${report.cluster}, shard ${report.shard}, ${report.trigger}, ${report.startedAt}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:16px}th{text-align:left;padding:2px 16px 2px 0;font-weight:normal;color:#555}td{font-weight:bold}</style>
</head><body>
<h1>${escape(title)}</h1>
${figures(report)}
${chart(report)}
<h2>Timeline</h2>
<ol>${report.timeline.map((e) => `<li>${(e.t / 1000).toFixed(2)} s: ${escape(e.event)}${e.detail ? ` (${escape(e.detail)})` : ''}</li>`).join('')}</ol>
</body></html>
`;
}
