// Shared by every nurse-station page: the session, API calls with the CSRF token, the page
// header, DOM building without HTML strings, and how ages and values are written.

/** The signed-in user: { username, name, role, csrf, permissions }. */
export let session = null;

/** Server time minus browser time, ms: ages are measured on the gateway's clock. */
let clockOffsetMs = 0;
export function setServerNow(now) {
  clockOffsetMs = now - Date.now();
}
export function serverNow() {
  return Date.now() + clockOffsetMs;
}

export function toSignIn() {
  location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** Calls the API; a 401 sends the browser to sign-in. Resolves with the JSON body, rejects with its error text. */
export async function api(method, url, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session?.csrf) headers['x-csrf-token'] = session.csrf;
  const res = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && url !== '/api/session') {
    toSignIn();
    throw new Error('signed out');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
  return data;
}

export function can(permission) {
  return Boolean(session?.permissions?.includes(permission));
}

/** Builds an element: el('a', { href: '/x', class: 'y' }, 'text', child…). Attributes starting with "on" become listeners. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** A table head: one column header for each title. */
export function headRow(...titles) {
  return el('thead', {}, el('tr', {}, ...titles.map((t) => el('th', { scope: 'col' }, t))));
}

/** The one row of a table with nothing to list: `text` across all `columns`. */
export function emptyRow(columns, text) {
  return el('tr', {}, el('td', { colspan: columns, class: 'empty' }, text));
}

/** "12 s", "4 min", "2 h 5 min": an age for people. */
export function age(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

export function clockTime(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export const LABELS = { hr: 'HR', pr: 'Pulse', spo2: 'SpO₂', rr: 'RR', temp: 'Temp', sbp: 'BP', dbp: 'Diastolic', map: 'MAP', o2: 'O₂', acvpu: 'ACVPU' };
export const LONG_LABELS = { hr: 'Heart rate', pr: 'Pulse rate', spo2: 'Oxygen saturation', rr: 'Respiratory rate', temp: 'Temperature', sbp: 'Blood pressure', map: 'Mean arterial pressure', o2: 'Air or oxygen', acvpu: 'Consciousness' };
export const UNITS = { hr: '/min', pr: '/min', spo2: '%', rr: '/min', temp: '°C', sbp: 'mmHg', dbp: 'mmHg', map: 'mmHg', o2: '', acvpu: '' };
const ACVPU = ['A', 'C', 'V', 'P', 'U'];

/** A value as shown: ACVPU letters, air or O₂, one decimal for temperature. */
export function formatValue(metric, v) {
  if (v === undefined || v === null) return '–';
  if (metric === 'acvpu') return ACVPU[v] ?? String(v);
  if (metric === 'o2') return v >= 1 ? 'O₂' : 'Air';
  if (metric === 'temp') return v.toFixed(1);
  return String(Math.round(v));
}

export const BAND_TEXT = { none: 'no risk', low: 'low', 'low-medium': 'low-medium', medium: 'medium', high: 'high' };

/** A NEWS2 band as words to read out: "no risk", "low-medium risk". */
export function riskText(band) {
  return band === 'none' ? 'no risk' : `${BAND_TEXT[band] ?? band} risk`;
}

/** Fills the page header: user, role, navigation by permission, sign-out. */
export async function startPage(current) {
  try {
    session = await api('GET', '/api/session');
  } catch {
    toSignIn();
    throw new Error('not signed in');
  }
  const nav = document.getElementById('nav');
  const links = [['ward', '/ward', 'Ward'], ['assignments', '/assignments', 'Assignments'], ...(can('census') ? [['census', '/census', 'Census']] : []), ...(can('audit') ? [['audit', '/audit', 'Audit log']] : [])];
  nav.replaceChildren(...links.map(([id, href, text]) => el('a', { href, ...(id === current ? { 'aria-current': 'page' } : {}) }, text)));
  document.getElementById('who').textContent = `${session.name} · ${roleName(session.role)}`;
  document.getElementById('signout').addEventListener('click', async () => {
    await api('DELETE', '/api/session').catch(() => {});
    location.assign('/signin');
  });
}

export function roleName(role) {
  return { nurse: 'Nurse', charge: 'Charge nurse', admin: 'Administrator', api: 'API' }[role] ?? role;
}

/** Shows a short message in the page's status region (read out by screen readers). */
export function notify(text, kind = 'info') {
  const box = document.getElementById('notice');
  if (!box) return;
  box.textContent = text;
  box.className = `notice notice-${kind}`;
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => (box.hidden = true), 6000);
}

/** Rewrites every "x s ago" and stale mark from the gateway's clock. */
export function updateAges(root) {
  const now = serverNow();
  for (const node of root.querySelectorAll('[data-ts]')) {
    const ms = now - Number(node.dataset.ts);
    const staleS = Number(node.dataset.staleS || 0);
    const stale = staleS > 0 && ms > staleS * 1000;
    const holder = node.closest('.vital') ?? node;
    holder.classList.toggle('stale', stale);
    node.textContent = stale ? `${age(ms)} ago · stale` : `${age(ms)} ago`;
  }
}

