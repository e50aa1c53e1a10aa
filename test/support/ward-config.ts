/**
 * Config and credentials for a ward of simulated devices, one patient per device, for tests
 * that run many devices against a gateway process.
 */

/** The secret each test device uses. */
export function deviceSecret(id: string): string {
  return `${id}-secret-value`;
}

/** Credentials for the load clients. */
export function credentials(ids: readonly string[]): Array<{ id: string; secret: string }> {
  return ids.map((id) => ({ id, secret: deviceSecret(id) }));
}

/** `devices` and `census` config sections: ward w1, bed = device id, patient `P-<id>`. */
export function wardOf(ids: readonly string[], opts: { trustDeviceTime?: boolean } = {}) {
  return {
    devices: ids.map((id) => ({ id, secret: deviceSecret(id), ...(opts.trustDeviceTime ? { trustDeviceTime: true } : {}) })),
    census: { wards: [{ id: 'w1', beds: [...ids] }], patients: ids.map((id) => ({ id: `P-${id}`, ward: 'w1', bed: id, devices: [id] })) },
  };
}
