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
