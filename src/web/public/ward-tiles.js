// A bed tile: the patient, their vitals with ages, the signal behind them, NEWS2, a 30-minute
// trend, who looks after the bed this shift, and the bed's alarms.
import { el, formatValue, LABELS, LONG_LABELS, UNITS, BAND_TEXT, riskText, serverNow } from './common.js';
import { flashClass } from './alarm-policy.js';
import { sparkline } from './spark.js';

const TILE_METRICS = ['hr', 'spo2', 'rr', 'temp', 'sbp'];
const SENSOR_WORDS = { off: 'Sensor off', poor: 'Signal poor', pulse_lost: 'Pulse lost' };

/**
 * @param p the patient: vitals, sensors, limits, news2, spark, bed
 * @param ctx { alarms (the bed's), ward (staleSeconds, sparkMs), care (the bed's assignment with names) }
 */
export function tile(p, ctx) {
  const alarms = ctx.alarms;
  const top = alarms[0];
  const flash = alarms.map(flashClass).find(Boolean);
  const classes = ['tile', top ? `tile-alarm-${top.priority}` : '', flash ? `tile-${flash}` : ''].join(' ');
  return el('article', { class: classes, id: `tile-${p.id}`, dataset: { patient: p.id, bed: `${p.ward}/${p.bed}` }, 'aria-labelledby': `tile-h-${p.id}` },
    el('header', { class: 'tile-head' },
      el('h3', { id: `tile-h-${p.id}` }, `Bed ${p.bed}`),
      el('a', { href: `/patients/${encodeURIComponent(p.id)}`, class: 'patient-link' }, p.name ? `${p.name} (${p.id})` : p.id),
      news2Badge(p.news2),
    ),
    careLine(ctx.care),
    el('dl', { class: 'vitals' }, ...TILE_METRICS.map((m) => vital(p, m, alarms, ctx.ward))),
    el('div', { class: 'tile-foot' },
      el('span', { class: 'o2-acvpu' }, small(p, 'o2', ctx.ward), ' ', small(p, 'acvpu', ctx.ward)),
      sparkline(p.spark, ctx.ward.sparkMs, serverNow()),
    ),
    alarms.length ? el('ul', { class: 'tile-alarms', 'aria-label': `Alarms, bed ${p.bed}` }, ...alarms.map(tileAlarm)) : null,
  );
}

/** One of the bed's alarms on its tile. */
function tileAlarm(a) {
  const state = a.acknowledged ? ' (acknowledged)' : a.suppressed ? ' (held: sensor)' : '';
  return el('li', { class: `pri-${a.priority}${a.acknowledged ? ' acked' : ''}${a.suppressed ? ' held' : ''}` }, `${a.priority.toUpperCase()} ${a.condition ?? a.reason}${state}`);
}

export function emptyTile(bed, care) {
  return el('article', { class: 'tile tile-empty', 'aria-label': `Bed ${bed}, empty` }, el('header', { class: 'tile-head' }, el('h3', {}, `Bed ${bed}`)), careLine(care), el('p', { class: 'empty' }, 'Empty bed'));
}

function news2Badge(n) {
  if (!n) return el('span', { class: 'news2 band-unknown' }, 'NEWS2 –');
  return el('span', { class: `news2 band-${n.band}`, title: n.complete ? `NEWS2, ${BAND_TEXT[n.band]}` : `NEWS2 incomplete: missing ${n.missing.join(', ')}` },
    el('span', { 'aria-hidden': 'true' }, `NEWS2 ${n.score}${n.complete ? '' : '*'}`),
    el('span', { class: 'visually-hidden' }, `NEWS2 ${n.score}, ${riskText(n.band)}${n.complete ? '' : ', incomplete'}`),
  );
}

/** Who looks after the bed this shift. */
function careLine(care) {
  if (!care?.nurse && !care?.buddy) return el('p', { class: 'care care-none' }, 'No nurse assigned');
  return el('p', { class: 'care' },
    care.nurse ? el('span', { class: 'care-nurse' }, `Nurse ${care.nurse.name}`) : 'No nurse assigned',
    care.buddy ? el('span', { class: 'care-buddy' }, ` · buddy ${care.buddy.name}`) : null,
  );
}

function vital(p, m, alarms, ward) {
  let x = p.vitals[m];
  let shown = m;
  if (m === 'hr' && !x && p.vitals.pr) (x = p.vitals.pr), (shown = 'pr');
  const alarming = alarms.some((a) => a.metric === shown);
  let value = x ? formatValue(shown, x.v) : '–';
  if (m === 'sbp' && x) value = `${formatValue('sbp', x.v)}/${p.vitals.dbp ? formatValue('dbp', p.vitals.dbp.v) : '–'}`;
  const sensor = x ? sensorOf(p, x.deviceId) : undefined;
  const out = x && !alarming ? outOfLimits(p.limits?.[shown], x.v) : null;
  const doubtful = sensor !== undefined || x?.quality === 'poor';
  const classes = ['vital', `vital-${m}`, alarming ? 'vital-alarm' : '', out ? 'vital-out' : '', doubtful ? 'vital-doubtful' : '', x ? '' : 'vital-none'];
  return el('div', { class: classes.filter(Boolean).join(' '), dataset: { metric: shown } },
    el('dt', { title: LONG_LABELS[shown] }, LABELS[shown]),
    el('dd', {},
      el('span', { class: 'value', ...(out && { title: out }) }, value),
      el('span', { class: 'unit' }, UNITS[shown]),
      doubtful ? el('span', { class: 'signal' }, SENSOR_WORDS[sensor?.state] ?? 'Signal poor') : null,
      out ? el('span', { class: 'visually-hidden' }, `, ${out}`) : null,
      x ? el('span', { class: 'age', dataset: { ts: x.ts, staleS: ward.staleSeconds[shown] } }) : el('span', { class: 'age' }, 'no data'),
    ),
  );
}

/** The device's sensor state when it is not ok (off, poor, pulse lost). */
function sensorOf(p, deviceId) {
  return p.sensors?.[deviceId];
}

/** Words for a value beyond the patient's limits that has not (yet) alarmed, or null. */
function outOfLimits(l, v) {
  const low = l?.low ?? l?.lowHigh ?? null;
  const high = l?.high ?? l?.highHigh ?? null;
  if (low !== null && v < low) return `below the alarm limit ${low}`;
  if (high !== null && v > high) return `above the alarm limit ${high}`;
  return null;
}

function small(p, m, ward) {
  const x = p.vitals[m];
  if (!x) return el('span', { class: 'mini vital-none' }, `${LABELS[m]} –`);
  return el('span', { class: 'mini vital', title: LONG_LABELS[m] }, `${LABELS[m]} ${formatValue(m, x.v)} `, el('span', { class: 'age', dataset: { ts: x.ts, staleS: ward.staleSeconds[m] } }));
}

/** Adds a live value to a tile's trend line (10 s buckets, the last `spanMs`). */
export function addSparkPoint(series, ts, v, spanMs) {
  const bucket = ts - (ts % 10_000);
  const last = series[series.length - 1];
  if (last && last[0] === bucket) last[1] = v;
  else series.push([bucket, v]);
  const cutoff = serverNow() - spanMs;
  while (series.length && series[0][0] < cutoff) series.shift();
}
