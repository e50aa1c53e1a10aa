// The ward's alarm list: by priority, unacknowledged first, then age (the server's order), each
// with its state, who it has reached, its audio pause with the time left, and the actions.
import { api, can, el, clockTime, notify, serverNow, updateAges } from './common.js';
import { annunciating, countdown, flashClass } from './alarm-policy.js';

/** Minutes of audio pause per press. */
const PAUSE_MINUTES = 2;

/**
 * Draws the list and the banner of unacknowledged high-priority alarms. `who(a)` names the
 * patient; `nameOf(username)` a member of staff.
 */
export function renderAlarms(alarms, who, nameOf = (u) => u) {
  const list = document.getElementById('alarm-list');
  const focusedId = document.activeElement?.closest?.('[data-alarm]')?.dataset.alarm;
  const focusedAction = document.activeElement?.dataset?.action;
  list.replaceChildren(...alarms.map((a) => alarmItem(a, who(a), nameOf)));
  document.getElementById('no-alarms').hidden = alarms.length > 0;
  document.getElementById('alarm-count').textContent = alarms.length ? `(${alarms.length})` : '';
  const loud = alarms.filter((a) => a.priority === 'high' && annunciating(a));
  const attention = document.getElementById('attention');
  attention.hidden = loud.length === 0;
  attention.replaceChildren(el('span', { class: 'attention-text' }, loud.length ? `HIGH PRIORITY: ${loud.map((a) => `Bed ${a.bed ?? '?'} ${a.condition ?? a.reason}`).join(' · ')}` : ''));
  document.body.classList.toggle('has-high-alarm', loud.length > 0);
  if (focusedId) list.querySelector(`[data-alarm="${CSS.escape(focusedId)}"] [data-action="${focusedAction}"]`)?.focus();
  updateAges(list);
  updatePauses(list);
}

/** Rewrites each audio pause's time left (once a second). */
export function updatePauses(root) {
  const now = serverNow();
  for (const node of root.querySelectorAll('[data-paused-until]')) {
    const left = Number(node.dataset.pausedUntil) - now;
    node.textContent = left > 0 ? `Audio paused · ${countdown(left)} left` : 'Audio pause over';
  }
}

function state(a) {
  if (a.acknowledged) return `Acknowledged by ${a.acknowledgedBy}${a.state === 'acknowledged' ? ` at ${clockTime(a.since)}` : ''}`;
  if (a.state === 'cleared') return 'Condition over, awaiting acknowledgement';
  return a.tier > 1 ? `Escalated to ${a.tierName}: not acknowledged` : 'Not acknowledged';
}

function alarmItem(a, who, nameOf) {
  const now = serverNow();
  const paused = !a.acknowledged && a.silencedUntil > now;
  // Held while its sensor is off or poor: the technical alarm speaks for it meanwhile.
  const held = a.suppressed ? `Held: ${a.suppressed}` : null;
  const reached = a.notified?.length ? `Reached: ${a.notified.map(nameOf).join(', ')}` : a.acknowledged ? null : 'Reached: every station (nobody assigned)';
  const next = a.escalatesAt && !a.acknowledged ? ` · next tier at ${clockTime(a.escalatesAt)}` : '';
  const label = `bed ${a.bed ?? '–'}: ${a.condition ?? a.reason}`;
  const classes = ['alarm', `pri-${a.priority}`, a.acknowledged ? 'acked' : 'unacked', held ? 'held' : '', paused ? 'paused' : '', flashClass(a)];
  return el('li', { class: classes.filter(Boolean).join(' '), dataset: { alarm: a.id } },
    el('span', { class: 'pri-badge' }, a.priority.toUpperCase()),
    el('span', { class: 'alarm-where' }, `Bed ${a.bed ?? '–'}`, el('span', { class: 'alarm-who' }, who)),
    el('span', { class: 'alarm-reason' }, a.condition ?? a.reason),
    el('span', { class: 'alarm-state' }, state(a), held ? el('span', { class: 'held-note' }, ` · ${held}`) : null),
    paused ? el('span', { class: 'alarm-paused', role: 'timer', dataset: { pausedUntil: a.silencedUntil }, title: `Audio paused by ${a.silencedBy}` }) : null,
    reached ? el('span', { class: 'alarm-reached' }, `${reached}${next}`) : null,
    el('span', { class: 'alarm-age' }, 'raised ', el('span', { dataset: { ts: a.raisedAt } })),
    el('span', { class: 'alarm-actions' },
      can('acknowledge') && !a.acknowledged ? el('button', { type: 'button', class: 'ack', dataset: { action: 'ack' }, 'aria-label': `Acknowledge ${a.priority} alarm, ${label}`, onclick: () => acknowledge(a) }, 'Acknowledge') : null,
      can('acknowledge') && !a.acknowledged ? el('button', { type: 'button', class: 'quiet', dataset: { action: 'pause' }, 'aria-label': `Pause audio for ${PAUSE_MINUTES} minutes, ${label}`, onclick: () => pauseAudio(a) }, `Pause audio ${PAUSE_MINUTES} min`) : null,
    ),
  );
}

async function acknowledge(a) {
  try {
    await api('POST', `/api/alarms/${encodeURIComponent(a.id)}/ack`, {});
    notify(`Acknowledged: bed ${a.bed ?? '–'} ${a.condition ?? a.reason}`);
  } catch (err) {
    notify(`Not acknowledged: ${err.message}`, 'error');
  }
}

/** [IEC 60601-1-8] audio paused: the sound stops for a while, the alarm stays shown, escalation waits. */
async function pauseAudio(a) {
  try {
    await api('POST', `/api/alarms/${encodeURIComponent(a.id)}/silence`, { seconds: PAUSE_MINUTES * 60 });
    notify(`Audio paused for ${PAUSE_MINUTES} min: bed ${a.bed ?? '–'}`);
  } catch (err) {
    notify(`Audio not paused: ${err.message}`, 'error');
  }
}
