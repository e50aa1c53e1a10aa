// The bed tile's small trend line: SpO₂, heart rate and respiratory rate over the last half hour, as SVG.
import { el } from './common.js';

const NS = 'http://www.w3.org/2000/svg';
/** Fixed vertical ranges so a line's height means the same on every tile. */
const RANGES = { spo2: [80, 100], hr: [30, 170], rr: [0, 40] };
const W = 200;
const H = 40;

export function sparkline(spark, spanMs, now) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const words = [];
  for (const [metric, [lo, hi]] of Object.entries(RANGES)) {
    const pts = spark?.[metric] ?? [];
    if (pts.length < 2) continue;
    const line = document.createElementNS(NS, 'polyline');
    line.setAttribute('class', `spark-${metric}`);
    line.setAttribute('points', pts.map(([t, v]) => `${(((t - (now - spanMs)) / spanMs) * W).toFixed(1)},${(H - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * H).toFixed(1)}`).join(' '));
    svg.append(line);
    words.push(`${metric === 'spo2' ? 'SpO2' : metric.toUpperCase()} ${Math.round(pts[0][1])} to ${Math.round(pts[pts.length - 1][1])}`);
  }
  svg.setAttribute('aria-label', words.length ? `Last 30 minutes: ${words.join(', ')}` : 'No trend yet');
  return el('span', { class: 'spark-wrap' }, svg);
}
