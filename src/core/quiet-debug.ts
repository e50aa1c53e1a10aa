/**
 * Makes the MQTT codec's debug logging free while it is off.
 *
 * mqtt-packet logs through the `debug` package about a dozen times a packet. A `debug` logger
 * collects its arguments into an array before it looks whether it is enabled, so every call
 * allocates even when nothing is logged: about 1.4 KB a message at the broker's rates, a tenth of
 * all the gateway allocates for one. Evaluated before the codec is loaded (it is the entry
 * point's first import), this hands the codec, for each logger that is off when it is made, a
 * function that does nothing. With `DEBUG` set, nothing changes; a logger cannot then be turned
 * on later with `debug.enable()`.
 */
import { createRequire } from 'node:module';

interface Debugger {
  (...args: unknown[]): void;
  readonly enabled: boolean;
  readonly namespace: string;
}
type CreateDebug = ((namespace: string) => Debugger) & Record<string, unknown>;

/** A logger that is off and stays off. */
function off(namespace: string): Debugger {
  const nothing = (() => undefined) as unknown as Debugger;
  return Object.assign(nothing, { enabled: false, namespace, extend: (sub: string) => off(`${namespace}:${sub}`) });
}

function quietDebug(): void {
  if (process.env.DEBUG) return;
  const require = createRequire(import.meta.url);
  // the `debug` the codec itself resolves
  const id = createRequire(require.resolve('mqtt-packet')).resolve('debug');
  const createDebug = require(id) as CreateDebug;
  const quiet = Object.assign((namespace: string) => {
    const d = createDebug(namespace);
    return d.enabled ? d : off(namespace);
  }, createDebug);
  require.cache[id]!.exports = quiet;
}

quietDebug();
