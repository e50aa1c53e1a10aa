// The station's alarm sound, its state on screen, and notifications when the tab is in the
// background. Browsers keep sound off until the user interacts with the page: a sign-in click
// carries over to the ward view; otherwise a banner that cannot be missed says sound is off,
// with a button to turn it on.
import { AlarmSound } from './alarm-sound.js';
import { countdown, loudest, soundingAlarms } from './alarm-policy.js';
import { el, serverNow } from './common.js';

const WORDS = { high: 'HIGH', medium: 'MEDIUM', low: 'LOW' };

export class StationSound {
  /** @param me the signed-in username (escalation steps naming them are notified) */
  constructor(me) {
    this.me = me;
    this.sound = new AlarmSound();
    this.shown = [];
    /** Ids sounding at the last update: an alarm that starts sounding is notified. */
    this.sounding = new Set();
    this.sound.onstatechange = () => this.render();
    const turnOn = () => this.turnOn();
    document.getElementById('sound-on').addEventListener('click', turnOn);
    // Any first interaction with the page is a chance to start sound and ask for notifications.
    const first = () => {
      removeEventListener('pointerdown', first, true);
      removeEventListener('keydown', first, true);
      turnOn();
    };
    addEventListener('pointerdown', first, true);
    addEventListener('keydown', first, true);
    this.render();
  }

  async turnOn() {
    await this.sound.enable();
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    this.render();
  }

  /**
   * The shown alarms changed (and the transitions that changed them): sounds the loudest of
   * those that sound, and notifies, when the tab is in the background, each alarm that starts
   * sounding and each escalation step that names me.
   */
  update(shown, transitions = []) {
    this.shown = shown;
    const sounding = soundingAlarms(shown, serverNow());
    this.sound.play(loudest(sounding));
    for (const a of sounding) if (!this.sounding.has(a.id)) this.notify(a, a.condition ?? a.reason);
    const ids = new Set(shown.map((a) => a.id));
    for (const t of transitions) {
      if (t.state === 'escalated' && ids.has(t.id) && t.escalation?.recipients.includes(this.me)) this.notify(t, `Escalated to you (${t.escalation.name}): ${t.reason}`);
    }
    this.sounding = new Set(sounding.map((a) => a.id));
    this.render();
  }

  /** Once a second: audio pauses end by themselves, countdowns move. */
  tick() {
    this.update(this.shown);
  }

  render() {
    const state = this.sound.state;
    const banner = document.getElementById('sound-banner');
    banner.hidden = state === 'running';
    document.getElementById('sound-banner-text').textContent =
      state === 'unavailable' ? 'This browser cannot play sound: alarms at this station are SILENT. Use another browser.' : 'Sound is OFF: alarms at this station are SILENT until you turn sound on.';
    const now = serverNow();
    const paused = this.shown.filter((a) => !a.acknowledged && a.silencedUntil > now);
    const status = document.getElementById('audio-status');
    if (state !== 'running') status.replaceChildren('Sound off');
    else if (paused.length) {
      const until = Math.min(...paused.map((a) => a.silencedUntil));
      status.replaceChildren(`Audio paused (${paused.length}) `, el('span', { class: 'countdown' }, countdown(until - now)));
    } else status.replaceChildren('Sound on');
    status.className = `audio-status ${state !== 'running' ? 'audio-off' : paused.length ? 'audio-paused' : 'audio-on'}`;
  }

  notify(a, text) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    if (document.visibilityState === 'visible' && document.hasFocus()) return;
    const n = new Notification(`${WORDS[a.priority]} alarm · Bed ${a.bed ?? '–'}`, { body: text, tag: `${a.id}|${a.escalation?.tier ?? ''}`, requireInteraction: a.priority === 'high' });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  }
}
