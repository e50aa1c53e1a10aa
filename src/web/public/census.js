// Census screen (charge nurse, admin): admit, discharge, move bed, assign and unassign devices.
import { api, can, el, notify, startPage, age, serverNow } from './common.js';
import { startLive } from './live.js';

/** What is on screen, to skip re-rendering the same census. */
let shown = '';

await startPage('census');
const root = document.getElementById('census');
if (!can('census')) {
  root.replaceChildren(el('p', {}, 'The census needs the charge nurse or administrator role.'));
} else {
  await load();
  // Another station's census change arrives as a new snapshot.
  startLive({ snapshot: () => load().catch((err) => notify(err.message, 'error')) });
}

async function load() {
  const [census, ward] = await Promise.all([api('GET', '/api/census'), api('GET', '/api/ward')]);
  const unassigned = ward.unassignedDevices ?? [];
  const key = JSON.stringify([census, unassigned.map((d) => d.deviceId)]);
  if (key === shown) return; // nothing changed: keep what the user is typing
  shown = key;
  // Keep typed values and focus across a re-render caused by someone else's change.
  const typed = new Map([...root.querySelectorAll('input[id], select[id]')].map((e) => [e.id, e.value]));
  const focused = document.activeElement?.id;
  render(census, unassigned);
  for (const [id, value] of typed) {
    const e = document.getElementById(id);
    if (e && value && [...(e.options ?? [{ value }])].some((o) => o.value === value)) e.value = value;
  }
  if (focused) document.getElementById(focused)?.focus();
}

async function act(method, url, body, done) {
  try {
    await api(method, url, body);
    notify(done);
    await load();
  } catch (err) {
    notify(err.message, 'error');
  }
}

function freeBeds(census) {
  const taken = new Set(census.patients.map((p) => `${p.ward}/${p.bed}`));
  return census.wards.flatMap((w) => w.beds.filter((b) => !taken.has(`${w.id}/${b}`)).map((b) => ({ ward: w.id, wardName: w.name ?? w.id, bed: b })));
}

function bedSelect(id, census, label) {
  return el('select', { id, 'aria-label': label }, ...freeBeds(census).map((b) => el('option', { value: `${b.ward}/${b.bed}` }, `${b.wardName} · bed ${b.bed}`)));
}

/** A device assigned to a patient, with its Unassign button. */
function deviceChip(patientId, d) {
  const unassign = () => act('DELETE', `/api/census/patients/${encodeURIComponent(patientId)}/devices/${encodeURIComponent(d)}`, undefined, `${d} unassigned from ${patientId}`);
  return el('span', { class: 'toolbar' }, d, ' ', el('button', { type: 'button', class: 'quiet', 'aria-label': `Unassign ${d} from ${patientId}`, onclick: unassign }, 'Unassign'));
}

function render(census, unassigned) {
  const patients = [...census.patients].sort((a, b) => `${a.ward}/${a.bed}`.localeCompare(`${b.ward}/${b.bed}`, undefined, { numeric: true }));
  const rows = patients.map((p) => {
    const enc = encodeURIComponent(p.id);
    const move = bedSelect(`move-${p.id}`, census, `New bed for ${p.id}`);
    const device = el('input', { id: `dev-${p.id}`, list: 'unassigned', 'aria-label': `Device to assign to ${p.id}`, placeholder: 'device id', size: 10 });
    const assign = () => device.value && act('POST', `/api/census/patients/${enc}/devices`, { deviceId: device.value.trim() }, `${device.value} assigned to ${p.id}`);
    const moveTo = () => {
      const [ward, bed] = move.value.split('/');
      act('POST', `/api/census/patients/${enc}/move`, { ward, bed }, `${p.id} moved to bed ${bed}`);
    };
    const discharge = () => confirm(`Discharge ${p.name ?? p.id} from bed ${p.bed}?`) && act('DELETE', `/api/census/patients/${enc}`, undefined, `${p.id} discharged`);
    return el('tr', {},
      el('th', { scope: 'row' }, `${p.ward} / ${p.bed}`),
      el('td', {}, el('a', { href: `/patients/${enc}` }, p.name ? `${p.name} (${p.id})` : p.id)),
      el('td', {}, ...(p.devices.length ? p.devices.map((d) => deviceChip(p.id, d)) : ['none'])),
      el('td', {}, el('span', { class: 'toolbar' }, device, el('button', { type: 'button', onclick: assign }, 'Assign'))),
      el('td', {}, el('span', { class: 'toolbar' }, move, el('button', { type: 'button', disabled: move.options.length === 0, onclick: moveTo }, 'Move'))),
      el('td', {}, el('button', { type: 'button', class: 'danger', onclick: discharge }, 'Discharge')),
    );
  });
  const admitBed = bedSelect('admit-bed', census, 'Bed');
  const admit = el('form', { class: 'grid', id: 'admit-form' },
    el('label', { for: 'admit-id' }, 'Patient id'), el('input', { id: 'admit-id', required: true, autocomplete: 'off' }),
    el('label', { for: 'admit-name' }, 'Name'), el('input', { id: 'admit-name', autocomplete: 'off' }),
    el('label', { for: 'admit-bed' }, 'Bed'), admitBed,
    el('label', { for: 'admit-device' }, 'Device (optional)'), el('input', { id: 'admit-device', list: 'unassigned', autocomplete: 'off' }),
    el('div', { class: 'full' }, el('button', { type: 'submit', disabled: admitBed.options.length === 0 }, 'Admit')),
  );
  admit.addEventListener('submit', (e) => {
    e.preventDefault();
    const [ward, bed] = admitBed.value.split('/');
    const id = admit.querySelector('#admit-id').value.trim();
    const name = admit.querySelector('#admit-name').value.trim();
    const device = admit.querySelector('#admit-device').value.trim();
    act('POST', '/api/census/patients', { id, ward, bed, ...(name ? { name } : {}), ...(device ? { devices: [device] } : {}) }, `${id} admitted to bed ${bed}`);
  });
  root.replaceChildren(
    el('h1', {}, 'Census'),
    el('datalist', { id: 'unassigned' }, ...unassigned.map((d) => el('option', { value: d.deviceId }))),
    el('section', { class: 'card', 'aria-labelledby': 'pat-h' }, el('h2', { id: 'pat-h' }, 'Patients'),
      el('table', {}, el('thead', {}, el('tr', {}, ...['Bed', 'Patient', 'Devices', 'Assign a device', 'Move to bed', ''].map((t) => el('th', { scope: 'col' }, t)))), el('tbody', {}, ...rows))),
    el('div', { class: 'columns' },
      el('section', { class: 'card', 'aria-labelledby': 'admit-h' }, el('h2', { id: 'admit-h' }, 'Admit a patient'), admit),
      el('section', { class: 'card', 'aria-labelledby': 'un-h' }, el('h2', { id: 'un-h' }, 'Devices sending without a patient'),
        unassigned.length ? el('ul', {}, ...unassigned.map((d) => el('li', {}, `${d.deviceId} · last heard ${age(serverNow() - d.lastSeen)} ago`))) : el('p', { class: 'empty' }, 'None.')),
    ),
  );
}
