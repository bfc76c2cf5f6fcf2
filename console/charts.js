import uPlot from '/console/vendor/uPlot.esm.js';
import { h } from './dom.js';
import { clock, quantity } from './format.js';

/**
 * Charts on uPlot (~50 KB, canvas, fast enough for 150 small charts on one
 * page). Times arrive from the API in epoch ms; uPlot wants seconds. Markers
 * (deployments) and timeline signals are drawn in uPlot's draw hook, and
 * what was drawn where is written to the chart's `data-drawn` attribute, so
 * the legend, screen readers and tests see the same thing the canvas shows.
 */

export const COLORS = {
  p50: '#2563eb',
  p95: '#d97706',
  p99: '#b00020',
  error_rate: '#b00020',
  throughput: '#176b34',
  deployment: '#6d28d9',
  anomaly: '#b00020',
  error_spike: '#c2410c',
  alert: '#0f766e',
  dependency: '#854d0e',
};

/** The signal kinds a timeline draws, one lane each, top to bottom. */
const LANES = ['anomaly', 'error_spike', 'alert', 'dependency'];

const toSeconds = (ms) => ms / 1000;

/**
 * A time-series chart.
 * @param {HTMLElement} container
 * @param {{t: number[], step: number, from: number, to: number, lines: {label: string, values: (number|null)[], color: string}[],
 *   unit: string, height: number, markers?: {at: number, label: string}[], signals?: {at: number, kind: string, summary?: string}[],
 *   legend?: boolean, label: string}} spec
 * @returns {{destroy(): void}}
 */
export function timeChart(container, spec) {
  const markers = spec.markers ?? [];
  const signals = spec.signals ?? [];
  container.setAttribute('role', 'img');
  container.setAttribute('aria-label', spec.label);
  const opts = {
    width: Math.max(200, container.clientWidth || 360),
    height: spec.height,
    scales: { x: { time: true, range: [toSeconds(spec.from), toSeconds(spec.to)] }, y: { range: yRange } },
    legend: { show: spec.legend ?? false },
    cursor: { drag: { x: false, y: false } },
    series: [
      { value: (_u, v) => (v === null ? '–' : clock(v * 1000)) },
      ...spec.lines.map((line) => ({ label: line.label, stroke: line.color, width: 1.5, spanGaps: false, value: (_u, v) => quantity(v, spec.unit) })),
    ],
    axes: [
      { size: 28, font: '11px sans-serif', stroke: '#4f5b6d', grid: { stroke: '#eceff3' } },
      { size: 56, font: '11px sans-serif', stroke: '#4f5b6d', grid: { stroke: '#eceff3' }, values: (_u, ticks) => ticks.map((v) => quantity(v, spec.unit)) },
    ],
    hooks: { draw: [(u) => drawOverlays(u, container, markers, signals)] },
  };
  // A bucket's value is drawn where the bucket ends, when all of it has happened: drawn at its start, a
  // minute whose second half was slow would show the jump before the deployment that caused it.
  const data = [spec.t.map((t) => toSeconds(t + spec.step)), ...spec.lines.map((l) => l.values)];
  const chart = new uPlot(opts, data, container);
  const resize = new ResizeObserver(() => {
    const width = Math.max(200, container.clientWidth);
    if (width !== chart.width) chart.setSize({ width, height: spec.height });
  });
  resize.observe(container);
  return {
    destroy() {
      resize.disconnect();
      chart.destroy();
    },
  };
}

/** Zero-based, with headroom; a flat or empty series still gets a visible scale. */
function yRange(_u, min, max) {
  if (min === null || max === null || !Number.isFinite(max)) return [0, 1];
  const top = max <= 0 ? 1 : max * 1.15;
  return [Math.min(0, min), top];
}

/** Deployment lines and signal lanes over the plot; records what was drawn in `data-drawn` (CSS pixels from the canvas's left). */
function drawOverlays(u, container, markers, signals) {
  const { ctx } = u;
  const ratio = uPlot.pxRatio;
  const { left, top, width, height } = u.bbox;
  const drawn = [];
  const xOf = (ms) => Math.round(u.valToPos(toSeconds(ms), 'x', true));
  const inside = (x) => x >= left && x <= left + width;
  ctx.save();
  for (const m of markers) {
    const x = xOf(m.at);
    if (!inside(x)) continue;
    ctx.strokeStyle = COLORS.deployment;
    ctx.lineWidth = 2 * ratio;
    ctx.setLineDash([5 * ratio, 4 * ratio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = COLORS.deployment;
    ctx.font = `${11 * ratio}px sans-serif`;
    ctx.textAlign = 'left'; // uPlot leaves its axes' alignment on the context
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(m.label, Math.min(x + 4 * ratio, left + width - 60 * ratio), top + height - 6 * ratio);
    drawn.push({ kind: 'deployment', label: m.label, at: m.at, x: x / ratio });
  }
  for (const s of signals) {
    const lane = LANES.indexOf(s.kind);
    const x = xOf(s.at);
    if (lane === -1 || !inside(x)) continue;
    const y = top + (10 + lane * 14) * ratio;
    ctx.fillStyle = COLORS[s.kind];
    shape(ctx, lane, x, y, 5 * ratio);
    drawn.push({ kind: s.kind, at: s.at, x: x / ratio });
  }
  ctx.restore();
  container.dataset.drawn = JSON.stringify(drawn);
}

/** One shape per lane (circle, triangle, square, diamond): kinds differ by more than colour. */
function shape(ctx, lane, x, y, r) {
  ctx.beginPath();
  if (lane === 0) ctx.arc(x, y, r, 0, 2 * Math.PI);
  else if (lane === 1) {
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.lineTo(x - r, y + r);
  } else if (lane === 2) ctx.rect(x - r, y - r, 2 * r, 2 * r);
  else {
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + r);
    ctx.lineTo(x - r, y);
  }
  ctx.closePath();
  ctx.fill();
}

/** A legend as a list: swatch and words for each line, marker and signal kind shown. */
export function legend(items) {
  return h(
    'ul',
    { class: 'legend' },
    items.map((i) => {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = i.color; // the CSSOM, not a style attribute: the page's CSP allows none
      return h('li', {}, swatch, i.label);
    }),
  );
}
