// Patient view: trends of the last hours with alarm marks and limits (uPlot), NEWS2 history,
// alarm history, manual observations and, for the charge nurse, the patient's alarm limits.
import { api, can, el, emptyRow, headRow, clockTime, formatValue, LABELS, UNITS, BAND_TEXT, riskText, notify, serverNow, startPage, updateAges } from './common.js';
import { startLive } from './live.js';
import { observationForm, limitsForm } from './patient-forms.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
const PRIORITY_COLOURS = { high: '#ff5252', medium: '#ffca28', low: '#4fc3f7' };
/** Charts: title, series (metric, label, colour), y range, which alarms mark it. */
const CHARTS = [
  { key: 'hr', title: 'Heart rate (/min)', series: [['hr', 'HR', '#81c784'], ['pr', 'Pulse', '#aed581']], range: [30, 180], metrics: ['hr', 'pr'] },
  { key: 'spo2', title: 'SpO₂ (%)', series: [['spo2', 'SpO₂', '#4fc3f7']], range: [75, 100], metrics: ['spo2'] },
  { key: 'rr', title: 'Respiratory rate (/min)', series: [['rr', 'RR', '#ffb74d']], range: [0, 40], metrics: ['rr'] },
  { key: 'temp', title: 'Temperature (°C)', series: [['temp', 'Temp', '#f48fb1']], range: [34, 41], metrics: ['temp'] },
  { key: 'sbp', title: 'Blood pressure (mmHg)', series: [['sbp', 'Systolic', '#ce93d8'], ['dbp', 'Diastolic', '#9575cd']], range: [40, 220], metrics: ['sbp', 'dbp', 'map'] },
];
/** Seconds since the epoch → uPlot's x values. */
const sec = (ms) => ms / 1000;
let hours = Number(new URLSearchParams(location.search).get('hours') ?? 6);
let data = null;
const plots = new Map();
let refreshTimer = null;

await startPage('ward');
await load();
startLive({
  vitals: (d) => d[id] && soon(),
  news2: (list) => list.some((n) => n.patientId === id) && soon(),
  alarms: (d) => d.transitions.some((t) => t.patientId === id) && soon(),
  snapshot: () => soon(),
});
setInterval(() => updateAges(document), 1000);
addEventListener('resize', () => {
  for (const [key, u] of plots) u.setSize(size(document.getElementById(`chart-${key}`)));
});

/** Refreshes at most every 2 s while data arrives. */
function soon() {
  refreshTimer ??= setTimeout(() => {
    refreshTimer = null;
    load().catch((err) => notify(`Could not refresh: ${err.message}`, 'error'));
  }, 2000);
}

async function load() {
  data = await api('GET', `/api/patients/${encodeURIComponent(id)}/history?hours=${hours}`);
  if (!document.getElementById('charts')) render();
  else {
    fillSummary();
    drawCharts();
    fillNews2();
    fillAlarms();
  }
}

function render() {
  const p = data.patient;
  document.title = `Bed ${p.bed} ${p.name ?? p.id} · Vigil nurse station`;
  const root = document.getElementById('patient');
  root.replaceChildren(
    el('div', { class: 'patient-head' },
      el('h1', {}, `Bed ${p.bed} · ${p.name ? `${p.name} (${p.id})` : p.id}`),
      el('span', { id: 'news2-now' }),
      el('a', { href: '/ward' }, '← Ward'),
      el('label', { for: 'hours' }, 'Show last'),
      el('select', { id: 'hours', onchange: (e) => { hours = Number(e.target.value); history.replaceState(null, '', `?hours=${hours}`); load(); } },
        ...[1, 3, 6].map((h) => el('option', { value: h, ...(h === hours ? { selected: true } : {}) }, `${h} h`))),
    ),
    el('section', { class: 'card', 'aria-labelledby': 'now-h' }, el('h2', { id: 'now-h' }, 'Now'), el('dl', { id: 'summary', class: 'toolbar vitals-row' })),
    el('section', { class: 'card', 'aria-labelledby': 'active-h' }, el('h2', { id: 'active-h' }, 'Active alarms'), el('ul', { id: 'active-alarms', class: 'alarm-list' })),
    el('section', { 'aria-labelledby': 'trends-h' }, el('h2', { id: 'trends-h' }, 'Trends'), el('p', { class: 'empty' }, 'Vertical lines mark alarms (red high, yellow medium, blue low); dashed lines are the alarm limits.'),
      el('div', { id: 'charts', class: 'charts' }, ...CHARTS.map((c) => el('figure', { class: 'chart card', id: `chart-${c.key}`, 'aria-labelledby': `chart-${c.key}-h` }, el('h3', { id: `chart-${c.key}-h` }, c.title), el('figcaption', { class: 'visually-hidden', id: `chart-${c.key}-sum` }))),
        el('figure', { class: 'chart card', id: 'chart-news2', 'aria-labelledby': 'chart-news2-h' }, el('h3', { id: 'chart-news2-h' }, 'NEWS2'), el('figcaption', { class: 'visually-hidden', id: 'chart-news2-sum' })))),
    el('div', { class: 'columns' },
      el('section', { class: 'card', 'aria-labelledby': 'news2-h' }, el('h2', { id: 'news2-h' }, 'NEWS2 history'), el('table', { id: 'news2-history' })),
      el('section', { class: 'card', 'aria-labelledby': 'ah-h' }, el('h2', { id: 'ah-h' }, 'Alarm history'), el('table', { id: 'alarm-history' })),
    ),
    el('div', { class: 'columns' },
      can('observe') ? observationForm(id, () => load()) : null,
      can('limits') ? limitsForm(id, () => data, () => load()) : null,
    ),
  );
  fillSummary();
  drawCharts();
  fillNews2();
  fillAlarms();
}

function fillSummary() {
  const p = data.patient;
  const n = p.news2;
  const badge = document.getElementById('news2-now');
  badge.className = `news2 band-${n ? n.band : 'unknown'}`;
  badge.textContent = n ? `NEWS2 ${n.score} · ${riskText(n.band)}${n.complete ? '' : ' (incomplete)'}` : 'NEWS2 –';
  document.getElementById('summary').replaceChildren(
    ...['hr', 'pr', 'spo2', 'rr', 'temp', 'sbp', 'o2', 'acvpu'].filter((m) => p.vitals[m] || ['hr', 'spo2', 'rr', 'temp', 'sbp'].includes(m)).map((m) => {
      const x = p.vitals[m];
      const value = !x ? '–' : m === 'sbp' ? `${formatValue('sbp', x.v)}/${p.vitals.dbp ? formatValue('dbp', p.vitals.dbp.v) : '–'}` : formatValue(m, x.v);
      return el('div', { class: 'vital' }, el('dt', {}, LABELS[m]), el('dd', {}, el('span', { class: 'value' }, value), el('span', { class: 'unit' }, UNITS[m]), x ? el('span', { class: 'age', dataset: { ts: x.ts, staleS: data.staleSeconds[m] } }) : el('span', { class: 'age' }, 'no data')));
    }),
  );
  const active = document.getElementById('active-alarms');
  active.replaceChildren(...data.alarms.map((a) => el('li', { class: `alarm pri-${a.priority}${a.acknowledged ? ' acked' : ' unacked'}` },
    el('span', { class: 'pri-badge' }, a.priority.toUpperCase()),
    el('span', { class: 'alarm-reason' }, a.condition ?? a.reason),
    el('span', { class: 'alarm-state' }, a.acknowledged ? `Acknowledged by ${a.acknowledgedBy}${a.state === 'acknowledged' ? ` at ${clockTime(a.since)}` : ''}` : 'Not acknowledged'),
    el('span', { class: 'alarm-actions' }, can('acknowledge') && !a.acknowledged ? el('button', { type: 'button', class: 'ack', onclick: () => api('POST', `/api/alarms/${encodeURIComponent(a.id)}/ack`, {}).then(() => load(), (err) => notify(err.message, 'error')) }, 'Acknowledge') : null),
  )));
  if (data.alarms.length === 0) active.replaceChildren(el('li', { class: 'empty' }, 'No active alarms.'));
  updateAges(document);
}

function size(fig) {
  return { width: Math.max(280, fig.clientWidth - 24), height: 180 };
}

function marksFor(metrics) {
  return data.alarmHistory.filter((a) => a.state === 'raised' && (metrics === null ? a.kind === 'news2' : metrics.includes(a.metric)));
}

function markPlugin(getMarks, getLimits) {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.lineWidth = 2 * devicePixelRatio;
        for (const a of getMarks()) {
          const x = u.valToPos(sec(a.ts), 'x', true);
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          ctx.strokeStyle = PRIORITY_COLOURS[a.priority];
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
        }
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.lineWidth = 1 * devicePixelRatio;
        for (const [v, priority] of getLimits()) {
          const y = u.valToPos(v, 'y', true);
          if (y < bbox.top || y > bbox.top + bbox.height) continue;
          ctx.strokeStyle = PRIORITY_COLOURS[priority];
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

/**
 * The alarm limits of each trace of a chart drawn with data, by its own limits (the heart rate's
 * and the pulse rate's on one chart); with no data, the first trace's. A limit shared by two
 * traces is drawn once.
 */
function limitLines(metrics) {
  const withData = metrics.filter((m) => data.trends[m]?.length > 0);
  const lines = new Map();
  for (const metric of withData.length > 0 ? withData : metrics.slice(0, 1)) {
    const l = data.limits[metric];
    if (!l) continue;
    for (const [v, priority] of [[l.low, 'medium'], [l.high, 'medium'], [l.lowHigh, 'high'], [l.highHigh, 'high']]) {
      if (v !== null && v !== undefined && lines.get(v) !== 'high') lines.set(v, priority);
    }
  }
  return [...lines];
}

/**
 * "14:05" (or "14:05:20" when the ticks are less than a minute apart): a time axis label on one
 * line (uPlot's default puts the date on a second line, over the first label).
 */
function hm(sec, seconds = false) {
  return new Date(sec * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(seconds && { second: '2-digit' }), hour12: false });
}

function chartOptions(fig, series, range, marks, limits, rows) {
  const axis = { stroke: '#b8c2cc', grid: { stroke: '#2a3440' }, ticks: { stroke: '#2a3440' } };
  // The legend shows the values under the cursor, and the latest ones when the cursor is elsewhere.
  const latest = (i) => [...(rows[i] ?? [])].reverse().find((v) => v !== null && v !== undefined);
  const now = sec(serverNow());
  // The window is the chosen hours, or less when the data starts later (a new admission).
  const first = Math.min(...Object.values(data.trends).map((pts) => (pts.length ? sec(pts[0][0]) : Infinity)), ...data.news2.map((n) => sec(n.ts)));
  const from = Math.max(now - hours * 3600, Number.isFinite(first) ? first - 60 : now - hours * 3600);
  return {
    ...size(fig),
    scales: { x: { time: true, range: () => [from, now] }, y: { range: (_u, min, max) => [Math.min(range[0], min ?? range[0]), Math.max(range[1], max ?? range[1])] } },
    axes: [{ ...axis, values: (_u, splits, _axis, _space, incr) => splits.map((v) => (v === null ? '' : hm(v, incr < 60))) }, axis],
    legend: { live: true },
    series: [
      { label: 'Time', value: (_u, v) => (v === null || v === undefined ? (latest(0) === undefined ? 'no data' : `${hm(latest(0))} (latest)`) : hm(v)) },
      ...series.map(([, label, colour], i) => ({ label, stroke: colour, width: 2, spanGaps: false, value: (_u, v) => { const x = v ?? latest(i + 1); return x === undefined ? '–' : String(x); } })),
    ],
    plugins: [markPlugin(marks, limits)],
  };
}

/** Aligns several metrics' [t, v, …] points on one time axis. */
function aligned(metrics) {
  const times = [...new Set(metrics.flatMap((m) => (data.trends[m] ?? []).map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = metrics.map((m) => {
    const col = new Array(times.length).fill(null);
    for (const [t, v] of data.trends[m] ?? []) col[index.get(t)] = v;
    return col;
  });
  return [times.map(sec), ...columns];
}

function drawCharts() {
  for (const c of CHARTS) {
    const rows = aligned(c.series.map(([m]) => m));
    describe(`chart-${c.key}-sum`, c.title, c.series.map(([m, label]) => [label, data.trends[m] ?? []]));
    draw(c.key, rows, () => chartOptions(document.getElementById(`chart-${c.key}`), c.series, c.range, () => marksFor(c.metrics), () => limitLines(c.series.map(([m]) => m)), rows));
  }
  const pts = data.news2.map((n) => [n.ts, n.score]);
  if (pts.length) pts.push([serverNow(), pts[pts.length - 1][1]]);
  describe('chart-news2-sum', 'NEWS2', [['NEWS2', pts]]);
  const news2Rows = [pts.map((p) => sec(p[0])), pts.map((p) => p[1])];
  draw('news2', news2Rows, () => {
    const opts = chartOptions(document.getElementById('chart-news2'), [['news2', 'NEWS2', '#ffffff']], [0, 10], () => marksFor(null), () => [[5, 'medium'], [7, 'high']], news2Rows);
    opts.series[1].paths = uPlot.paths.stepped({ align: 1 });
    return opts;
  });
}

function draw(key, rows, options) {
  const fig = document.getElementById(`chart-${key}`);
  plots.get(key)?.destroy();
  plots.set(key, new uPlot(options(), rows, fig));
}

function describe(id, title, series) {
  const words = series.map(([label, pts]) => (pts.length ? `${label}: latest ${pts[pts.length - 1][1]}, lowest ${Math.min(...pts.map((p) => p[1]))}, highest ${Math.max(...pts.map((p) => p[1]))}` : `${label}: no data`));
  document.getElementById(id).textContent = `${title}, last ${hours} hours. ${words.join('. ')}.`;
}

function fillNews2() {
  const rows = [...data.news2].reverse().slice(0, 12);
  document.getElementById('news2-history').replaceChildren(
    headRow('Time', 'Score', 'Band'),
    el('tbody', {}, ...(rows.length ? rows.map(news2Row) : [emptyRow(3, 'No NEWS2 yet.')])),
  );
}

function fillAlarms() {
  const rows = [...data.alarmHistory].reverse().slice(0, 50);
  document.getElementById('alarm-history').replaceChildren(
    headRow('Time', 'Priority', 'State', 'Reason'),
    el('tbody', {}, ...(rows.length ? rows.map(alarmRow) : [emptyRow(4, 'No alarms in this period.')])),
  );
}

function news2Row(n) {
  return el('tr', {},
    el('td', { class: 'num' }, clockTime(n.ts)),
    el('td', { class: 'num' }, `${n.score}${n.complete ? '' : ' (incomplete)'}`),
    el('td', {}, el('span', { class: `news2 band-${n.band}` }, BAND_TEXT[n.band])),
  );
}

function alarmRow(a) {
  return el('tr', { class: `pri-${a.priority}` },
    el('td', { class: 'num' }, clockTime(a.ts)),
    el('td', {}, el('span', { class: 'pri-badge' }, a.priority.toUpperCase())),
    el('td', {}, a.state),
    el('td', {}, a.reason),
  );
}
