// Caregiver assignment for the shift: the charge nurse sets, per ward, the charge nurse and each
// bed's nurse and buddy; everyone else sees who looks after which bed. Alarms for a bed go first
// to its nurse, then by the ward's escalation policy to the buddy and the charge nurse.
import { api, can, el, notify, startPage, roleName } from './common.js';
import { startLive } from './live.js';

const root = document.getElementById('assignments');
let shown = '';

const INTRO_CHARGE = 'Assign a nurse and a buddy nurse to each bed for this shift. Alarms for a bed reach its nurse first; '
  + 'if nobody acknowledges, the ward\'s escalation policy brings in the buddy and the charge nurse.';
const INTRO_OTHERS = 'Who looks after each bed this shift (the charge nurse sets it).';

await startPage('assignments');
await load();
// Another station's change arrives as a new ward snapshot.
startLive({ snapshot: () => load().catch((err) => notify(err.message, 'error')) });

async function load() {
  const data = await api('GET', '/api/assignments');
  const key = JSON.stringify(data);
  if (key === shown) return; // nothing changed: keep what is being chosen
  shown = key;
  root.replaceChildren(
    el('h1', {}, 'Caregiver assignment'),
    el('p', { class: 'empty' }, can('assign') ? INTRO_CHARGE : INTRO_OTHERS),
    ...data.wards.map((w) => wardForm(w, data.staff)),
  );
}

function staffSelect(id, label, staff, value) {
  return el('select', { id, 'aria-label': label, disabled: !can('assign') },
    el('option', { value: '' }, '— nobody —'),
    ...staff.map((s) => el('option', { value: s.username, ...(s.username === value ? { selected: true } : {}) }, `${s.name} (${roleName(s.role)})`)),
  );
}

function wardForm(w, staff) {
  const a = w.assignment;
  const idOf = (bed, role) => `as-${w.id}-${bed}-${role}`;
  const form = el('form', { class: 'card', id: `assign-${w.id}`, 'aria-labelledby': `assign-h-${w.id}` },
    el('h2', { id: `assign-h-${w.id}` }, w.name),
    el('p', { class: 'toolbar' }, el('label', { for: `as-${w.id}-charge` }, 'Charge nurse'), staffSelect(`as-${w.id}-charge`, `Charge nurse, ${w.name}`, staff, a.charge)),
    el('table', {},
      el('thead', {}, el('tr', {}, ...['Bed', 'Nurse', 'Buddy nurse'].map((t) => el('th', { scope: 'col' }, t)))),
      el('tbody', {}, ...w.beds.map((bed) => el('tr', {},
        el('th', { scope: 'row' }, `Bed ${bed}`),
        el('td', {}, staffSelect(idOf(bed, 'nurse'), `Nurse for bed ${bed}`, staff, a.beds[bed]?.nurse)),
        el('td', {}, staffSelect(idOf(bed, 'buddy'), `Buddy nurse for bed ${bed}`, staff, a.beds[bed]?.buddy)),
      ))),
    ),
    can('assign') ? el('p', {}, el('button', { type: 'submit' }, `Save assignment for ${w.name}`)) : null,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = (id) => form.querySelector(`#${CSS.escape(id)}`).value || undefined;
    const beds = Object.fromEntries(w.beds.map((bed) => [bed, { nurse: value(idOf(bed, 'nurse')), buddy: value(idOf(bed, 'buddy')) }]));
    try {
      await api('PUT', `/api/assignments/${encodeURIComponent(w.id)}`, { charge: value(`as-${w.id}-charge`), beds });
      notify(`Assignment saved for ${w.name}`);
      await load();
    } catch (err) {
      notify(`Not saved: ${err.message}`, 'error');
    }
  });
  return form;
}
