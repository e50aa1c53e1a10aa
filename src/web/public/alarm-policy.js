// Which alarms a station shows and which of them sound: pure functions over the ward's alarm
// list, shared by the ward view and its tests.

const RANK = { high: 0, medium: 1, low: 2 };

/**
 * Who this station is for: `me` (username), whether it is filtered to `mine`, and from the ward's
 * caregiver assignment the beds I am the assigned nurse of (`myBeds`) and the beds anyone is
 * (`ownedBeds`), as `ward/bed` keys.
 */
export function stationView(wards, me, mine) {
  const myBeds = new Set();
  const ownedBeds = new Set();
  for (const w of wards ?? []) {
    for (const [bed, a] of Object.entries(w.assignment?.beds ?? {})) {
      if (!a.nurse) continue;
      ownedBeds.add(`${w.id}/${bed}`);
      if (a.nurse.username === me) myBeds.add(`${w.id}/${bed}`);
    }
  }
  return { me, mine: Boolean(mine), myBeds, ownedBeds };
}

/**
 * The alarms shown: every one, or, filtered to my beds, those of my beds, those an escalation
 * step brought to me, those of beds nobody is assigned to (they must reach someone), and the
 * gateway's own (no bed).
 */
export function shownAlarms(alarms, view) {
  if (!view.mine) return alarms;
  return alarms.filter((a) => {
    if (a.bed === undefined || a.ward === undefined) return true;
    const bed = `${a.ward}/${a.bed}`;
    return view.myBeds.has(bed) || !view.ownedBeds.has(bed) || (a.notified ?? []).includes(view.me);
  });
}

/**
 * [IEC 60601-1-8] whether an alarm's signals are on: unacknowledged, its condition present or
 * latched (condition over, `cleared`, awaiting acknowledgement), and not held while a technical
 * alarm speaks for its sensor. A non-latching alarm whose condition ended stays listed for its
 * flap hold, silent and steady.
 */
export function annunciating(a) {
  return !a.acknowledged && !a.suppressed && (a.conditionActive !== false || a.state === 'cleared');
}

/** The alarms that sound now: those annunciating whose audio is not paused. Highest priority first. */
export function soundingAlarms(shown, now) {
  return shown.filter((a) => annunciating(a) && !(a.silencedUntil > now)).sort((a, b) => RANK[a.priority] - RANK[b.priority]);
}

/** [IEC 60601-1-8] the signal of the highest priority among those sounding, or null. */
export function loudest(sounding) {
  return sounding[0]?.priority ?? null;
}

/**
 * [IEC 60601-1-8] visual signals: high flashes at 1.4–2.8 Hz, medium at 0.4–0.8 Hz, low is
 * steady; an alarm not annunciating (acknowledged, held while its sensor's technical alarm is
 * shown, condition over and not latched) never flashes. The CSS class of an alarm's flash, or ''.
 */
export function flashClass(a) {
  if (!annunciating(a) || a.priority === 'low') return '';
  return `flash-${a.priority}`;
}

/** "1:52": the time left of an audio pause, ms → minutes and seconds. */
export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
