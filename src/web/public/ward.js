// Ward view: a tile per bed, the ward's alarms, live over server-sent events; the alarm sound;
// and a filter to the beds I look after this shift (plus what escalation brings me).
import { el, clockTime, serverNow, session, startPage, updateAges } from './common.js';
import { startLive } from './live.js';
import { shownAlarms, stationView } from './alarm-policy.js';
import { StationSound } from './station-sound.js';
import { addSparkPoint, emptyTile, tile } from './ward-tiles.js';
import { renderAlarms, updatePauses } from './ward-alarms.js';

let ward = null; // the last snapshot, updated in place by events
const patients = new Map(); // id → tile data
await startPage('ward');
const sound = new StationSound(session.username);
const FILTER_KEY = `vigil.mine.${session.username}`;
/** Filtered to my beds? Remembered per user on this browser; the first time, on when I have beds. */
let mine = localStorage.getItem(FILTER_KEY);
setupFilter();

startLive({
  snapshot(data) {
    ward = data;
    patients.clear();
    for (const w of ward.wards) for (const b of w.beds) if (b.patient) patients.set(b.patient.id, { ...b.patient, ward: w.id, bed: b.bed });
    render();
  },
  vitals(data) {
    for (const [id, values] of Object.entries(data)) {
      const p = patients.get(id);
      if (!p) continue;
      Object.assign(p.vitals, values);
      for (const [m, x] of Object.entries(values)) if (p.spark[m]) addSparkPoint(p.spark[m], x.ts, x.v, ward.sparkMs);
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
    renderBeds();
    showAlarms(data.transitions);
  },
});
setInterval(tick, 1000);

function tick() {
  document.getElementById('clock').textContent = clockTime(serverNow());
  updateAges(document);
  updatePauses(document);
  sound.tick();
}

function view() {
  const v = stationView(ward?.wards, session.username, false);
  if (mine === null) mine = v.myBeds.size > 0 ? '1' : '0';
  return { ...v, mine: mine === '1' };
}

function setupFilter() {
  const button = document.getElementById('filter-mine');
  button.addEventListener('click', () => {
    mine = mine === '1' ? '0' : '1';
    localStorage.setItem(FILTER_KEY, mine);
    render();
  });
}

function render() {
  renderBeds();
  showAlarms([]);
}

/** The alarm list and the sound, for what this station shows. */
function showAlarms(transitions) {
  const shown = shownAlarms(ward.alarms, view());
  renderAlarms(shown, (a) => {
    const p = a.patientId ? patients.get(a.patientId) : undefined;
    return p ? (p.name ? `${p.name} (${p.id})` : p.id) : a.deviceId ?? '';
  }, staffName);
  sound.update(shown, transitions);
}

function renderBeds() {
  const v = view();
  const button = document.getElementById('filter-mine');
  button.setAttribute('aria-pressed', String(v.mine));
  button.textContent = v.mine ? `Showing my beds (${v.myBeds.size})` : 'Showing all beds';
  // Filtered: my beds, and the beds of alarms shown to me (escalated to me, or nobody's).
  const alarmBeds = new Set(shownAlarms(ward.alarms, v).map((a) => `${a.ward}/${a.bed}`));
  const keep = (w, bed) => !v.mine || v.myBeds.has(`${w.id}/${bed}`) || alarmBeds.has(`${w.id}/${bed}`);
  const root = document.getElementById('wards');
  root.replaceChildren(
    ...ward.wards.map((w) =>
      el('section', { class: 'ward-block', 'aria-label': w.name },
        ward.wards.length > 1 || w.assignment?.charge ? el('h3', { class: 'ward-name' }, w.name, w.assignment?.charge ? el('span', { class: 'care' }, ` · charge nurse ${w.assignment.charge.name}`) : null) : null,
        el('div', { class: 'tiles' }, ...w.beds.filter((b) => keep(w, b.bed)).map((b) => (b.patient ? tileOf(patients.get(b.patient.id)) : emptyTile(b.bed, careOf(w.id, b.bed))))),
      ),
    ),
  );
  updateAges(root);
}

/** The name of a member of staff the assignment knows, else their username (a pager group stays as written). */
function staffName(username) {
  for (const w of ward.wards) {
    const a = w.assignment;
    for (const who of [a?.charge, ...Object.values(a?.beds ?? {}).flatMap((b) => [b.nurse, b.buddy])]) if (who?.username === username) return who.name;
  }
  return username;
}

function careOf(wardId, bed) {
  return ward.wards.find((w) => w.id === wardId)?.assignment?.beds?.[bed];
}

function tileOf(p) {
  return tile(p, { alarms: (ward?.alarms ?? []).filter((a) => a.patientId === p.id), ward, care: careOf(p.ward, p.bed) });
}

function updateTile(p) {
  const old = document.getElementById(`tile-${p.id}`);
  if (!old) return;
  const fresh = tileOf(p);
  old.replaceWith(fresh);
  updateAges(fresh);
}
