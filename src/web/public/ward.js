// Ward view: a tile per bed, the ward's alarms by priority then age, live over server-sent events.
import { api, can, el, age, clockTime, formatValue, LABELS, LONG_LABELS, UNITS, BAND_TEXT, notify, serverNow, startPage, updateAges } from './common.js';
import { sparkline } from './spark.js';
import { startLive } from './live.js';

const TILE_METRICS = ['hr', 'spo2', 'rr', 'temp', 'sbp'];

let ward = null; // the last snapshot, updated in place by events
const patients = new Map(); // id → tile data
await startPage('ward');
startLive({
  snapshot(data) {
    ward = data;
    patients.clear();
    for (const w of ward.wards) for (const b of w.beds) if (b.patient) patients.set(b.patient.id, { ...b.patient, ward: w.id, bed: b.bed });
    renderBeds();
    renderAlarms();
  },
  vitals(data) {
    for (const [id, values] of Object.entries(data)) {
      const p = patients.get(id);
      if (!p) continue;
      Object.assign(p.vitals, values);
      for (const [m, x] of Object.entries(values)) if (p.spark[m]) addSparkPoint(p.spark[m], x.ts, x.v);
      updateTile(p);
    }
  },
  news2(list) {
    for (const n of list) {
      const p = patients.get(n.patientId);
      if (!p) continue;
      p.news2 = n;
      updateTile(p);
    }
  },
  alarms(data) {
    ward.alarms = data.alarms;
    renderAlarms();
    for (const p of patients.values()) updateTile(p);
  },
});
setInterval(tick, 1000);

function tick() {
  document.getElementById('clock').textContent = clockTime(serverNow());
  updateAges(document);
}

function renderBeds() {
  const root = document.getElementById('wards');
  root.replaceChildren(
    ...ward.wards.map((w) =>
      el('section', { class: 'ward-block', 'aria-label': w.name },
        ward.wards.length > 1 ? el('h3', { class: 'ward-name' }, w.name) : null,
        el('div', { class: 'tiles' }, ...w.beds.map((b) => (b.patient ? tile(patients.get(b.patient.id)) : emptyTile(w, b.bed)))),
      ),
    ),
  );
  updateAges(root);
}

function emptyTile(w, bed) {
  return el('article', { class: 'tile tile-empty', 'aria-label': `Bed ${bed}, empty` }, el('header', { class: 'tile-head' }, el('h3', {}, `Bed ${bed}`)), el('p', { class: 'empty' }, 'Empty bed'));
}

function updateTile(p) {
  const old = document.getElementById(`tile-${p.id}`);
  if (!old) return;
  const fresh = tile(p);
  old.replaceWith(fresh);
  updateAges(fresh);
}

function alarmsOf(patientId) {
  return (ward?.alarms ?? []).filter((a) => a.patientId === patientId);
}

function tile(p) {
  const alarms = alarmsOf(p.id);
  const top = alarms[0];
  const loud = alarms.some((a) => a.priority === 'high' && !a.acknowledged);
  const classes = ['tile', top ? `tile-alarm-${top.priority}` : '', loud ? 'tile-flash' : ''].join(' ');
  const n = p.news2;
  const news2 = n
    ? el('span', { class: `news2 band-${n.band}`, title: n.complete ? 'NEWS2' : `NEWS2 incomplete: missing ${n.missing.join(', ')}` }, `NEWS2 ${n.score}${n.complete ? '' : '*'}`, el('span', { class: 'visually-hidden' }, `, ${BAND_TEXT[n.band]} risk${n.complete ? '' : ', incomplete'}`))
    : el('span', { class: 'news2 band-unknown' }, 'NEWS2 –');
  return el('article', { class: classes, id: `tile-${p.id}`, dataset: { patient: p.id }, 'aria-labelledby': `tile-h-${p.id}` },
    el('header', { class: 'tile-head' },
      el('h3', { id: `tile-h-${p.id}` }, `Bed ${p.bed}`),
      el('a', { href: `/patients/${encodeURIComponent(p.id)}`, class: 'patient-link' }, p.name ? `${p.name} (${p.id})` : p.id),
      news2,
    ),
    el('dl', { class: 'vitals' }, ...TILE_METRICS.map((m) => vital(p, m))),
    el('div', { class: 'tile-foot' },
      el('span', { class: 'o2-acvpu' }, small(p, 'o2'), ' ', small(p, 'acvpu')),
      sparkline(p.spark, ward.sparkMs, serverNow()),
    ),
    alarms.length ? el('ul', { class: 'tile-alarms', 'aria-label': `Alarms, bed ${p.bed}` }, ...alarms.map((a) => el('li', { class: `pri-${a.priority}${a.acknowledged ? ' acked' : ''}` }, `${a.priority.toUpperCase()} ${(a.condition ?? a.reason)}${a.acknowledged ? ' (acknowledged)' : ''}`))) : null,
  );
}

function vital(p, m) {
  let x = p.vitals[m];
  let shown = m;
  if (m === 'hr' && !x && p.vitals.pr) (x = p.vitals.pr), (shown = 'pr');
  const alarming = alarmsOf(p.id).some((a) => a.metric === shown || (m === 'sbp' && a.metric === 'sbp'));
  let value = x ? formatValue(shown, x.v) : '–';
  if (m === 'sbp' && x) value = `${formatValue('sbp', x.v)}/${p.vitals.dbp ? formatValue('dbp', p.vitals.dbp.v) : '–'}`;
  return el('div', { class: `vital vital-${m}${alarming ? ' vital-alarm' : ''}${x ? '' : ' vital-none'}`, dataset: { metric: shown } },
    el('dt', { title: LONG_LABELS[shown] }, LABELS[shown]),
    el('dd', {},
      el('span', { class: 'value' }, value),
      el('span', { class: 'unit' }, UNITS[shown]),
      x ? el('span', { class: 'age', dataset: { ts: x.ts, staleS: ward.staleSeconds[shown] } }) : el('span', { class: 'age' }, 'no data'),
    ),
  );
}

function small(p, m) {
  const x = p.vitals[m];
  if (!x) return el('span', { class: 'mini vital-none' }, `${LABELS[m]} –`);
  return el('span', { class: 'mini vital', title: LONG_LABELS[m] }, `${LABELS[m]} ${formatValue(m, x.v)} `, el('span', { class: 'age', dataset: { ts: x.ts, staleS: ward.staleSeconds[m] } }));
}

function addSparkPoint(series, ts, v) {
  const bucket = ts - (ts % 10_000);
  const last = series[series.length - 1];
  if (last && last[0] === bucket) last[1] = v;
  else series.push([bucket, v]);
  const cutoff = serverNow() - ward.sparkMs;
  while (series.length && series[0][0] < cutoff) series.shift();
}

function renderAlarms() {
  const list = document.getElementById('alarm-list');
  const focusedId = document.activeElement?.closest?.('[data-alarm]')?.dataset.alarm;
  const focusedAction = document.activeElement?.dataset?.action;
  const alarms = ward.alarms;
  list.replaceChildren(...alarms.map(alarmItem));
  document.getElementById('no-alarms').hidden = alarms.length > 0;
  document.getElementById('alarm-count').textContent = alarms.length ? `(${alarms.length})` : '';
  const loud = alarms.filter((a) => a.priority === 'high' && !a.acknowledged && !a.suppressed);
  const attention = document.getElementById('attention');
  attention.hidden = loud.length === 0;
  attention.textContent = loud.length ? `HIGH PRIORITY: ${loud.map((a) => `Bed ${a.bed ?? '?'} ${(a.condition ?? a.reason)}`).join(' · ')}` : '';
  document.body.classList.toggle('has-high-alarm', loud.length > 0);
  if (focusedId) list.querySelector(`[data-alarm="${CSS.escape(focusedId)}"] [data-action="${focusedAction}"]`)?.focus();
  updateAges(list);
}

function alarmItem(a) {
  const p = a.patientId ? patients.get(a.patientId) : undefined;
  const who = p ? (p.name ? `${p.name} (${p.id})` : p.id) : a.deviceId ?? '';
  const state = a.acknowledged ? `Acknowledged by ${a.acknowledgedBy}${a.state === 'acknowledged' ? ` at ${clockTime(a.since)}` : ''}` : a.state === 'cleared' ? 'Condition over, awaiting acknowledgement' : a.escalated ? 'Escalated: not acknowledged' : 'Not acknowledged';
  const silenced = a.silencedUntil && a.silencedUntil > serverNow() ? `Silenced by ${a.silencedBy} until ${clockTime(a.silencedUntil)}` : null;
  // Held while its sensor is off or poor: the technical alarm speaks for it meanwhile.
  const held = a.suppressed ? `Held: ${a.suppressed}` : null;
  return el('li', { class: `alarm pri-${a.priority}${a.acknowledged ? ' acked' : ' unacked'}${held ? ' held' : ''}${a.priority === 'high' && !a.acknowledged && !held ? ' flash' : ''}`, dataset: { alarm: a.id } },
    el('span', { class: 'pri-badge' }, a.priority.toUpperCase()),
    el('span', { class: 'alarm-where' }, `Bed ${a.bed ?? '–'}`, el('span', { class: 'alarm-who' }, who)),
    el('span', { class: 'alarm-reason' }, (a.condition ?? a.reason)),
    el('span', { class: 'alarm-state' }, state, silenced ? el('span', { class: 'silenced' }, ` · ${silenced}`) : null, held ? el('span', { class: 'held-note' }, ` · ${held}`) : null),
    el('span', { class: 'alarm-age' }, 'raised ', el('span', { dataset: { ts: a.raisedAt } })),
    el('span', { class: 'alarm-actions' },
      can('acknowledge') && !a.acknowledged ? el('button', { type: 'button', class: 'ack', dataset: { action: 'ack' }, 'aria-label': `Acknowledge ${a.priority} alarm, bed ${a.bed ?? '–'}: ${(a.condition ?? a.reason)}`, onclick: () => acknowledge(a) }, 'Acknowledge') : null,
      can('acknowledge') ? el('button', { type: 'button', class: 'quiet', dataset: { action: 'silence' }, 'aria-label': `Silence for 2 minutes, bed ${a.bed ?? '–'}: ${(a.condition ?? a.reason)}`, onclick: () => silence(a, 120) }, 'Silence 2 min') : null,
    ),
  );
}

async function acknowledge(a) {
  try {
    await api('POST', `/api/alarms/${encodeURIComponent(a.id)}/ack`, {});
    notify(`Acknowledged: bed ${a.bed ?? '–'} ${(a.condition ?? a.reason)}`);
  } catch (err) {
    notify(`Not acknowledged: ${err.message}`, 'error');
  }
}

async function silence(a, seconds) {
  try {
    await api('POST', `/api/alarms/${encodeURIComponent(a.id)}/silence`, { seconds });
    notify(`Silenced for ${seconds / 60} min: bed ${a.bed ?? '–'}`);
  } catch (err) {
    notify(`Not silenced: ${err.message}`, 'error');
  }
}
