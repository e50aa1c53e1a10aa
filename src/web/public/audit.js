// Audit log (charge nurse, admin): who did what and when, newest first.
import { api, can, el, emptyRow, headRow, startPage } from './common.js';

await startPage('audit');
document.getElementById('conn').hidden = true; // a record, not a live view
const root = document.getElementById('audit');
if (!can('audit')) {
  root.replaceChildren(el('h1', {}, 'Audit log'), el('p', {}, 'The audit log needs the charge nurse or administrator role.'));
} else {
  const { entries } = await api('GET', '/api/audit?limit=500');
  const when = (ts) => new Date(ts).toLocaleString([], { hour12: false });
  const what = (d) => (d ? Object.entries(d).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : '');
  const row = (e) => el('tr', {},
    el('td', { class: 'num' }, when(e.ts)),
    el('td', {}, e.who),
    el('td', {}, e.role),
    el('td', {}, e.action),
    el('td', {}, e.patientId ?? ''),
    el('td', {}, what(e.detail)),
  );
  root.replaceChildren(
    el('h1', {}, 'Audit log'),
    el('table', { id: 'audit-table' },
      el('caption', { class: 'visually-hidden' }, 'Audit log, newest first'),
      headRow('Time', 'Who', 'Role', 'Action', 'Patient', 'Details'),
      el('tbody', {}, ...(entries.length ? entries.map(row) : [emptyRow(6, 'Nothing recorded yet.')])),
    ),
  );
}
