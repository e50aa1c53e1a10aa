/** Vigil's MQTT topic layout, in one place. */

/** Root of everything a device may publish or subscribe under: `vigil/v1/dev/{deviceId}/`. */
export function deviceTopicPrefix(deviceId: string): string {
  return `vigil/v1/dev/${deviceId}/`;
}

/** Topic a device publishes observations to. */
export function deviceObsTopic(deviceId: string): string {
  return `${deviceTopicPrefix(deviceId)}obs`;
}

/** Splits `vigil/v1/dev/{deviceId}/{kind}`; undefined for anything else. */
export function parseDeviceTopic(topic: string): { deviceId: string; kind: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'vigil' || parts[1] !== 'v1' || parts[2] !== 'dev') return undefined;
  const deviceId = parts[3]!;
  const kind = parts[4]!;
  if (deviceId === '' || kind === '') return undefined;
  return { deviceId, kind };
}

/** Alarm topic for nurse-call and paging systems. */
export function alarmTopic(ward: string, bed: string): string {
  return `vigil/v1/alarms/${ward}/${bed}`;
}

/**
 * True when every topic matched by `requested` is also matched by `allowed` (both MQTT topic
 * filters, [MQTT-4.7]). Used to grant subscriptions no wider than an account's filters.
 */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < a.length; i++) {
    const al = a[i];
    if (al === '#') return true;
    const rl = r[i];
    if (rl === undefined) return false;
    if (rl === '#') return false;
    if (al === '+') continue;
    if (rl === '+' || rl !== al) return false;
  }
  return r.length === a.length;
}
