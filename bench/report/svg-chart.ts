/**
 * Two small chart kinds as standalone SVG text, no dependencies: a line chart (y against x for a
 * few series) and a horizontal bar chart (one value per label, optionally grouped). Readable on
 * GitHub's light and dark themes (white background drawn in).
 */
const PALETTE = [
  '#6b7280',
  '#2563eb',
  '#1d4ed8',
  '#f59e0b',
  '#b45309',
  '#10b981',
  '#8b5cf6',
  '#ef4444',
  '#0891b2',
];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" upper bound and step for an axis from 0 to max. */
function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

const fmt = (n: number): string =>
  n === 0 ? '0' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);

export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
}

export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: Series[] }): string {
  const W = 720;
  const H = 400;
  const m = { l: 64, r: 190, t: 40, b: 52 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const { top, step } = niceScale(Math.max(...ys, 0));
  const X = (x: number) => +(m.l + ((x - xMin) / (xMax - xMin || 1)) * pw).toFixed(1);
  const Y = (y: number) => +(m.t + ph - (y / top) * ph).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${m.l}" y="24" font-size="15" font-weight="600" fill="#111">${esc(opts.title)}</text>`,
  ];
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${m.l - 6}" y="${Y(v) + 4}" text-anchor="end" fill="#374151">${fmt(v)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${X(x)}" x2="${X(x)}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#374151"/>`);
    out.push(`<text x="${X(x)}" y="${m.t + ph + 18}" text-anchor="middle" fill="#374151">${x}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#374151"/>`);
  out.push(
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle" fill="#111">${esc(opts.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#111">${esc(opts.yLabel)}</text>`,
  );
  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    const d = pts
      .map((p, k) => `${k === 0 ? 'M' : 'L'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`)
      .join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const p of pts)
      out.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = m.t + 10 + i * 20;
    out.push(
      `<line x1="${m.l + pw + 16}" x2="${m.l + pw + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${m.l + pw + 46}" y="${ly + 4}" fill="#111">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface Bar {
  label: string;
  value: number;
  /** Colour group (e.g. implementation family). */
  group?: number;
  note?: string;
}

export function barChart(opts: {
  title: string;
  unit: string;
  bars: Bar[];
  limit?: { value: number; label: string };
}): string {
  const W = 720;
  const rowH = 26;
  const m = { l: 250, r: 90, t: 44, b: 36 };
  const H = m.t + m.b + opts.bars.length * rowH;
  const pw = W - m.l - m.r;
  const max = Math.max(...opts.bars.map((b) => b.value).filter(Number.isFinite), opts.limit?.value ?? 0);
  const { top, step } = niceScale(max);
  const X = (v: number) => +(m.l + (v / top) * pw).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="16" y="26" font-size="15" font-weight="600" fill="#111">${esc(opts.title)}</text>`,
  ];
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${X(v)}" x2="${X(v)}" y1="${m.t - 4}" y2="${H - m.b}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${X(v)}" y="${H - m.b + 16}" text-anchor="middle" fill="#374151">${fmt(v)}</text>`);
  }
  out.push(
    `<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle" fill="#111">${esc(opts.unit)}</text>`,
  );
  opts.bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    const color = PALETTE[(b.group ?? i) % PALETTE.length];
    out.push(
      `<text x="${m.l - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" fill="#111">${esc(b.label)}</text>`,
    );
    if (Number.isFinite(b.value)) {
      out.push(
        `<rect x="${m.l}" y="${y + 4}" width="${Math.max(1, X(b.value) - m.l).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
      );
      out.push(
        `<text x="${X(b.value) + 6}" y="${y + rowH / 2 + 4}" fill="#111">${fmt(b.value)}${b.note ? ` ${esc(b.note)}` : ''}</text>`,
      );
    } else {
      out.push(`<text x="${m.l + 6}" y="${y + rowH / 2 + 4}" fill="#6b7280">${esc(b.note ?? 'n/a')}</text>`);
    }
  });
  if (opts.limit) {
    const x = X(opts.limit.value);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${m.t - 6}" y2="${H - m.b}" stroke="#ef4444" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    );
    out.push(
      `<text x="${x}" y="${m.t - 10}" text-anchor="middle" fill="#ef4444">${esc(opts.limit.label)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface StackedBar {
  label: string;
  /** Segment values in the order of `segments`. */
  values: number[];
}

/** One colour more than PALETTE: a stacked bar must not repeat a colour. */
const STACK_PALETTE = [...PALETTE, '#d1d5db'];

/** Horizontal bars split into segments (e.g. a request's time by stage), with a legend. */
export function stackedBarChart(opts: {
  title: string;
  unit: string;
  segments: string[];
  bars: StackedBar[];
}): string {
  const W = 760;
  const rowH = 26;
  const legendH = 18 * Math.ceil(opts.segments.length / 4);
  const m = { l: 130, r: 70, t: 44 + legendH, b: 36 };
  const H = m.t + m.b + opts.bars.length * rowH;
  const pw = W - m.l - m.r;
  const total = (b: StackedBar) =>
    b.values.reduce((a, v) => a + (Number.isFinite(v) ? Math.max(0, v) : 0), 0);
  const { top, step } = niceScale(Math.max(...opts.bars.map(total), 0));
  const X = (v: number) => +(m.l + (v / top) * pw).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="16" y="26" font-size="15" font-weight="600" fill="#111">${esc(opts.title)}</text>`,
  ];
  opts.segments.forEach((s, i) => {
    const x = 16 + (i % 4) * 180;
    const y = 40 + Math.floor(i / 4) * 18;
    out.push(
      `<rect x="${x}" y="${y}" width="12" height="12" fill="${STACK_PALETTE[i % STACK_PALETTE.length]}"/>`,
    );
    out.push(`<text x="${x + 16}" y="${y + 10}" fill="#111">${esc(s)}</text>`);
  });
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${X(v)}" x2="${X(v)}" y1="${m.t - 4}" y2="${H - m.b}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${X(v)}" y="${H - m.b + 16}" text-anchor="middle" fill="#374151">${fmt(v)}</text>`);
  }
  out.push(
    `<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle" fill="#111">${esc(opts.unit)}</text>`,
  );
  opts.bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    out.push(
      `<text x="${m.l - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" fill="#111">${esc(b.label)}</text>`,
    );
    let at = 0;
    b.values.forEach((v, k) => {
      if (!Number.isFinite(v) || v <= 0) return;
      out.push(
        `<rect x="${X(at)}" y="${y + 4}" width="${Math.max(0.5, X(at + v) - X(at)).toFixed(1)}" height="${rowH - 8}" fill="${STACK_PALETTE[k % STACK_PALETTE.length]}"/>`,
      );
      at += v;
    });
    out.push(`<text x="${X(at) + 6}" y="${y + rowH / 2 + 4}" fill="#111">${fmt(at)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
