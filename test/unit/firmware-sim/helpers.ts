/** Small helpers shared by the simulator tests. */
import { SimDevice, type SimProfile } from '../../../firmware-sim/device.js';
import { loadScenario } from '../../../firmware-sim/scenario.js';

/** All data bytes a device sends in [from, to) device seconds, concatenated. */
export function bytesOf(profile: SimProfile, scenario: string, seed: number, from = 0, to = 600, timeScale?: number): Buffer {
  const d = device(profile, scenario, seed, timeScale);
  const parts: Buffer[] = [];
  for (const c of d.generate(from, to)) if (c.kind === 'data') parts.push(c.bytes);
  return Buffer.concat(parts);
}

export function device(profile: SimProfile, scenario: string, seed: number, timeScale?: number): SimDevice {
  return new SimDevice({ id: `sim-${profile}`, profile, scenario: loadScenario(scenario), seed, ...(timeScale ? { timeScale } : {}) });
}

/** Reference unescape for Datex frames, written independently of the encoder. */
export function splitDatexFrames(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let current: number[] | undefined;
  let escaped = false;
  for (const b of stream) {
    if (b === 0x7e) {
      if (current && current.length > 0) frames.push(Buffer.from(current));
      current = [];
      escaped = false;
    } else if (current) {
      if (escaped) {
        current.push(b ^ 0x20);
        escaped = false;
      } else if (b === 0x7d) escaped = true;
      else current.push(b);
    }
  }
  return frames;
}

/** Sum of bytes mod 256, the reference way. */
export function sum8(bytes: Uint8Array): number {
  return bytes.reduce((a, b) => (a + b) % 256, 0);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
