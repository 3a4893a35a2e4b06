/**
 * The benchmark's chart as a self-contained SVG: sweep time against node count on the left, the
 * PING fidelity ratio (probe / redis-benchmark) against node count on the right, with targets.
 */

export interface Series {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface Panel {
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Target markers: a short horizontal tick at (x, y) with a label. */
  readonly targets?: readonly { readonly x: number; readonly y: number; readonly label: string }[];
}

const WIDTH = 420;
const HEIGHT = 320;
const MARGIN = { left: 56, right: 16, top: 34, bottom: 84 };

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max) ?? 10 * power;
}

function panelSvg(panel: Panel, offsetX: number): string {
  const xs = panel.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = [
    ...panel.series.flatMap((s) => s.points.map(([, y]) => y)),
    ...(panel.targets ?? []).map((t) => t.y),
  ];
  const xMax = niceCeiling(Math.max(...xs, 1));
  const yMax = niceCeiling(Math.max(...ys, 0) * 1.1);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => offsetX + MARGIN.left + (x / xMax) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<text x="${offsetX + WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(
      `<line x1="${px(0)}" y1="${py(y)}" x2="${px(xMax)}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${px(0) - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toPrecision(3)}</text>`,
    );
    const x = (xMax * i) / 4;
    parts.push(
      `<text x="${px(x)}" y="${py(0) + 16}" text-anchor="middle">${+x.toPrecision(3)}</text>`,
    );
  }
  parts.push(
    `<text x="${px(xMax / 2)}" y="${py(0) + 32}" text-anchor="middle">nodes</text>`,
    `<text transform="translate(${offsetX + 14} ${py(yMax / 2)}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
  );
  for (const target of panel.targets ?? []) {
    parts.push(
      `<line x1="${px(target.x) - 10}" y1="${py(target.y)}" x2="${px(target.x) + 10}" y2="${py(target.y)}" stroke="#c00" stroke-width="2"/>`,
      `<text x="${px(target.x) + 12}" y="${py(target.y) + 4}" fill="#c00">${escape(target.label)}</text>`,
    );
  }
  panel.series.forEach((series, i) => {
    const path = series.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${series.colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
      ...series.points.map(
        ([x, y]) => `<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${series.colour}"/>`,
      ),
      `<text x="${offsetX + MARGIN.left + (i % 2) * 180}" y="${py(0) + 54 + Math.floor(i / 2) * 15}" fill="${series.colour}">— ${escape(series.name)}</text>`,
    );
  });
  return parts.join('\n');
}

export function renderChart(panels: readonly Panel[]): string {
  const width = WIDTH * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${HEIGHT}" fill="#fff"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * WIDTH)),
    '</svg>',
    '',
  ].join('\n');
}
