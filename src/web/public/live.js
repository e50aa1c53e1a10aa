// The live connection shared by the pages: server-sent events from /api/ward/events, a watchdog
// for silent drops, and the "connection lost" banner shown the moment the stream fails.
import { clockTime, setServerNow, toSignIn } from './common.js';

/** No event (not even a heartbeat) for this long means the stream is dead, ms. */
const WATCHDOG_MS = 15_000;

/**
 * Opens the stream and keeps it open.
 * @param handlers { snapshot, vitals, news2, alarms }: each gets the event's parsed data.
 */
export function startLive(handlers) {
  let source = null;
  let lastEvent = 0;
  let lostSince = null;

  const seen = () => {
    lastEvent = Date.now();
    if (lostSince !== null) {
      lostSince = null;
      document.body.classList.remove('disconnected');
      document.getElementById('conn-lost').hidden = true;
    }
    const conn = document.getElementById('conn');
    conn.textContent = 'Live';
    conn.className = 'conn conn-live';
  };

  const lost = () => {
    if (lostSince === null) lostSince = Date.now();
    document.body.classList.add('disconnected');
    const conn = document.getElementById('conn');
    conn.textContent = 'Connection lost';
    conn.className = 'conn conn-lost-badge';
    const banner = document.getElementById('conn-lost');
    banner.textContent = `Connection to the gateway lost at ${clockTime(lostSince)}. Values on this page are NOT live. Reconnecting…`;
    banner.hidden = false;
  };

  const connect = () => {
    source?.close();
    source = new EventSource('/api/ward/events');
    source.addEventListener('open', () => (lastEvent = Date.now()));
    for (const name of ['snapshot', 'vitals', 'news2', 'alarms']) {
      source.addEventListener(name, (e) => {
        seen();
        const data = JSON.parse(e.data);
        if (name === 'snapshot') setServerNow(data.now);
        handlers[name]?.(data);
      });
    }
    source.addEventListener('ping', (e) => {
      seen();
      setServerNow(JSON.parse(e.data).now);
    });
    source.addEventListener('signedout', () => toSignIn());
    source.addEventListener('error', () => {
      lost();
      if (source.readyState === EventSource.CLOSED) {
        // Refused for good (signed out, or the gateway restarted and forgot the session): find out which.
        fetch('/api/session', { credentials: 'same-origin' }).then(
          (r) => (r.status === 401 ? toSignIn() : setTimeout(connect, 2000)),
          () => setTimeout(connect, 2000),
        );
      }
    });
  };

  connect();
  setInterval(() => {
    if (lostSince === null && lastEvent > 0 && Date.now() - lastEvent > WATCHDOG_MS) {
      lost();
      connect();
    }
  }, 1000);
}
