// The patient view's forms: manual observations (any nurse) and alarm limits (charge nurse).
import { api, el, notify } from './common.js';

const ACVPU = [['A', 'Alert'], ['C', 'New confusion'], ['V', 'Responds to voice'], ['P', 'Responds to pain'], ['U', 'Unresponsive']];

function field(id, label, input) {
  return [el('label', { for: id }, label), input];
}

function num(id, min, max, step, extra = {}) {
  return el('input', { id, name: id, type: 'number', inputmode: 'decimal', min, max, step, ...extra });
}

/** Manual observations: consciousness, air or oxygen, blood pressure, temperature. They feed NEWS2. */
export function observationForm(patientId, done) {
  const form = el('form', { class: 'grid', id: 'obs-form', 'aria-describedby': 'obs-help' },
    el('p', { id: 'obs-help', class: 'full empty' }, 'Enter what you measured; empty fields are left out. Stored and scored like device data.'),
    ...field('obs-acvpu', 'Consciousness (ACVPU)', el('select', { id: 'obs-acvpu', name: 'acvpu' }, el('option', { value: '' }, '—'), ...ACVPU.map(([v, t]) => el('option', { value: v }, `${v} · ${t}`)))),
    ...field('obs-o2', 'Air or oxygen', el('select', { id: 'obs-o2', name: 'o2' }, el('option', { value: '' }, '—'), el('option', { value: 'air' }, 'Room air'), el('option', { value: 'oxygen' }, 'Supplemental oxygen'))),
    ...field('obs-sbp', 'Systolic BP (mmHg)', num('obs-sbp', 20, 300, 1)),
    ...field('obs-dbp', 'Diastolic BP (mmHg)', num('obs-dbp', 10, 250, 1)),
    ...field('obs-temp', 'Temperature (°C)', num('obs-temp', 25, 45, 0.1)),
    el('div', { class: 'full' }, el('button', { type: 'submit' }, 'Record observations')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    const f = form.elements;
    if (f.acvpu.value) body.acvpu = f.acvpu.value;
    if (f.o2.value) body.o2 = f.o2.value;
    for (const k of ['sbp', 'dbp', 'temp']) if (f[`obs-${k}`].value !== '') body[k] = Number(f[`obs-${k}`].value);
    try {
      const r = await api('POST', `/api/patients/${encodeURIComponent(patientId)}/observations`, body);
      notify(`Recorded ${r.stored} observation${r.stored === 1 ? '' : 's'}.`);
      form.reset();
      done();
    } catch (err) {
      notify(`Not recorded: ${err.message}`, 'error');
    }
  });
  return el('section', { class: 'card', 'aria-labelledby': 'obs-h' }, el('h2', { id: 'obs-h' }, 'Manual observations'), form);
}

// Every metric with limit alarms. The oximeter's pulse rate alarms on its own limits while there is no fresh ECG heart rate.
const LIMIT_METRICS = [['spo2', 'SpO₂ %'], ['hr', 'Heart rate /min'], ['pr', 'Pulse rate /min'], ['rr', 'Resp. rate /min'], ['sbp', 'Systolic mmHg'], ['temp', 'Temperature °C']];
const LIMIT_KEYS = [['lowHigh', 'Low (high priority)'], ['low', 'Low'], ['high', 'High'], ['highHigh', 'High (high priority)']];

/** Per-patient alarm limits and the NEWS2 SpO₂ scale (charge nurse). Empty means the ward default. */
export function limitsForm(patientId, getData, done) {
  const { limits, patient } = getData();
  const overrides = patient.settings?.limits ?? {};
  const table = el('table', { class: 'limits' },
    el('caption', { class: 'visually-hidden' }, 'Alarm limits; the placeholder shows the ward default'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Vital'), ...LIMIT_KEYS.map(([, t]) => el('th', { scope: 'col' }, t)))),
    el('tbody', {}, ...LIMIT_METRICS.map(([m, label]) => el('tr', {}, el('th', { scope: 'row' }, label), ...LIMIT_KEYS.map(([k, t]) => el('td', {},
      num(`lim-${m}-${k}`, -1000, 1000, 'any', { 'aria-label': `${label}, ${t}`, placeholder: limits[m]?.[k] ?? 'off', value: overrides[m]?.[k] ?? undefined })))))),
  );
  const scale = el('select', { id: 'lim-scale' }, el('option', { value: '1' }, 'Scale 1 (default)'), el('option', { value: '2' }, 'Scale 2 (hypercapnic respiratory failure)'));
  scale.value = String(patient.settings?.spo2Scale ?? 1);
  const form = el('form', { id: 'limits-form' },
    table,
    el('p', {}, el('label', { for: 'lim-scale' }, 'NEWS2 SpO₂ scale '), scale),
    el('button', { type: 'submit' }, 'Save limits'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // The patient's limits as they are now, with the rows of this form replaced by what it says:
    // the settings replace the patient's limits in full, so a limit of a metric the form does not
    // show (set through the API) must be sent back as it is, not dropped to the ward default.
    const out = {};
    for (const [m, o] of Object.entries(getData().patient.settings?.limits ?? {})) if (!LIMIT_METRICS.some(([shown]) => shown === m)) out[m] = { ...o };
    for (const [m] of LIMIT_METRICS) {
      for (const [k] of LIMIT_KEYS) {
        const v = form.querySelector(`#lim-${m}-${k}`).value;
        if (v !== '') (out[m] ??= {})[k] = Number(v);
      }
    }
    try {
      await api('PUT', `/api/census/patients/${encodeURIComponent(patientId)}/settings`, { spo2Scale: Number(scale.value), limits: out });
      notify('Limits saved; the detectors use them from now on.');
      done();
    } catch (err) {
      notify(`Limits not saved: ${err.message}`, 'error');
    }
  });
  return el('section', { class: 'card', 'aria-labelledby': 'limits-h' }, el('h2', { id: 'limits-h' }, 'Alarm limits'), form);
}
