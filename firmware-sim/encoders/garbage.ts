/**
 * Deterministic damage for the `garbage` scenario. Each function takes a source of uniform numbers
 * so the same seed damages the same bytes the same way.
 */

type Rand = (k: number) => number;

function junk(rand: Rand, from: number, length: number, avoid: readonly number[] = []): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    let b = Math.floor(rand(from + i) * 256);
    // Keep chosen delimiters out so the junk stays one stretch (the framer's job is tested elsewhere).
    while (avoid.includes(b)) b = (b + 1) & 0xff;
    out[i] = b;
  }
  return out;
}

/**
 * Damages CR LF-terminated ASCII lines: flips bytes inside a line, cuts a line short (it then runs
 * into the next one), or inserts a line of noise between valid lines.
 */
export function corruptLines(units: Buffer[], rand: Rand): Buffer[] {
  const i = Math.floor(rand(0) * units.length);
  const target = units[i];
  if (!target) return units;
  const out = [...units];
  const mode = Math.floor(rand(1) * 3);
  if (mode === 0) {
    const damaged = Buffer.from(target);
    const body = Math.max(1, damaged.length - 2); // leave CR LF so only this line is lost
    for (let k = 0; k < 3; k++) damaged[Math.floor(rand(10 + k) * body)] = Math.floor(rand(20 + k) * 256);
    out[i] = damaged;
  } else if (mode === 1) {
    out[i] = target.subarray(0, Math.max(1, Math.floor(rand(2) * (target.length - 2))));
  } else {
    out.splice(i, 0, Buffer.concat([junk(rand, 100, 5 + Math.floor(rand(3) * 40), [0x0a, 0x0d]), Buffer.from('\r\n')]));
  }
  return out;
}

/**
 * Damages flag-delimited binary frames: flips a body byte (bad checksum), drops the tail of a
 * frame (wrong length), puts short junk between frames, or a long run with no flag (over-long).
 */
export function corruptFrames(units: Buffer[], rand: Rand, flag: number): Buffer[] {
  const i = Math.floor(rand(0) * units.length);
  const target = units[i];
  if (!target || target.length < 4) return units;
  const out = [...units];
  const mode = Math.floor(rand(1) * 4);
  if (mode === 0) {
    const damaged = Buffer.from(target);
    const at = 1 + Math.floor(rand(2) * (damaged.length - 2));
    damaged[at] = ((damaged[at] ?? 0) ^ (1 + Math.floor(rand(3) * 0x1f))) & 0xff;
    // A flipped byte that became a flag or escape would change framing, not just the checksum.
    if (damaged[at] === flag || damaged[at] === 0x7d) damaged[at] = 0x00;
    out[i] = damaged;
  } else if (mode === 1) {
    out[i] = target.subarray(0, 2 + Math.floor(rand(2) * (target.length - 3)));
  } else if (mode === 2) {
    out.splice(i, 0, Buffer.concat([Buffer.from([flag]), junk(rand, 100, 3 + Math.floor(rand(3) * 20), [flag, 0x7d]), Buffer.from([flag])]));
  } else {
    out.splice(i, 0, Buffer.concat([Buffer.from([flag]), junk(rand, 100, 80 + Math.floor(rand(3) * 60), [flag]), Buffer.from([flag])]));
  }
  return out;
}

/** Damages JSON payloads: cut short, replaced by non-JSON bytes, or a value of the wrong type. */
export function corruptJson(units: Buffer[], rand: Rand): Buffer[] {
  const i = Math.floor(rand(0) * units.length);
  const target = units[i];
  if (!target) return units;
  const out = [...units];
  const mode = Math.floor(rand(1) * 3);
  if (mode === 0) out[i] = target.subarray(0, Math.max(1, Math.floor(rand(2) * (target.length - 1))));
  else if (mode === 1) out[i] = junk(rand, 100, 4 + Math.floor(rand(3) * 30));
  else out[i] = Buffer.from(target.toString('utf8').replace(/"obs":\{[^}]*\}/, '"obs":{"hr":"fast"}'));
  return out;
}
