/**
 * NEWS2 scoring, exactly per the Royal College of Physicians' 2017 chart. Pure functions: values
 * in, points out. Whole-number parameters are rounded to the nearest integer and temperature to
 * one decimal before scoring, the way the chart is read.
 */

/** The seven NEWS2 parameters. */
export const NEWS2_PARAMS = ['rr', 'spo2', 'o2', 'sbp', 'pulse', 'acvpu', 'temp'] as const;
export type News2Param = (typeof NEWS2_PARAMS)[number];

/** NEWS2 clinical response bands. */
export type News2Band = 'none' | 'low' | 'low-medium' | 'medium' | 'high';

/** Rounds half up to `decimals`, robust to binary fractions such as 36.05. */
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f + Math.sign(x) * 1e-7) / f;
}

/** @param rr breaths per minute */
export function scoreRespiration(rr: number): number {
  const v = roundTo(rr, 0);
  if (v <= 8) return 3; // [NEWS2] RR ≤ 8 → 3
  if (v <= 11) return 1; // [NEWS2] RR 9–11 → 1
  if (v <= 20) return 0; // [NEWS2] RR 12–20 → 0
  if (v <= 24) return 2; // [NEWS2] RR 21–24 → 2
  return 3; // [NEWS2] RR ≥ 25 → 3
}

/**
 * @param spo2 %
 * @param scale 1, or 2 for hypercapnic respiratory failure (chosen by a clinician)
 * @param onOxygen supplemental oxygen; only scale 2 at SpO2 ≥ 93 depends on it
 */
export function scoreSpo2(spo2: number, scale: 1 | 2, onOxygen: boolean): number {
  const v = roundTo(spo2, 0);
  if (scale === 1) {
    if (v <= 91) return 3; // [NEWS2] scale 1: ≤ 91 → 3
    if (v <= 93) return 2; // [NEWS2] scale 1: 92–93 → 2
    if (v <= 95) return 1; // [NEWS2] scale 1: 94–95 → 1
    return 0; // [NEWS2] scale 1: ≥ 96 → 0
  }
  if (v <= 83) return 3; // [NEWS2] scale 2: ≤ 83 → 3
  if (v <= 85) return 2; // [NEWS2] scale 2: 84–85 → 2
  if (v <= 87) return 1; // [NEWS2] scale 2: 86–87 → 1
  if (v <= 92) return 0; // [NEWS2] scale 2: 88–92 → 0
  if (!onOxygen) return 0; // [NEWS2] scale 2: ≥ 93 on air → 0
  if (v <= 94) return 1; // [NEWS2] scale 2: 93–94 on O2 → 1
  if (v <= 96) return 2; // [NEWS2] scale 2: 95–96 on O2 → 2
  return 3; // [NEWS2] scale 2: ≥ 97 on O2 → 3
}

/** @param o2 0 air, 1 supplemental oxygen */
export function scoreAirOxygen(o2: number): number {
  return o2 >= 1 ? 2 : 0; // [NEWS2] oxygen → 2, air → 0
}

/** @param sbp systolic blood pressure, mmHg */
export function scoreSystolic(sbp: number): number {
  const v = roundTo(sbp, 0);
  if (v <= 90) return 3; // [NEWS2] SBP ≤ 90 → 3
  if (v <= 100) return 2; // [NEWS2] SBP 91–100 → 2
  if (v <= 110) return 1; // [NEWS2] SBP 101–110 → 1
  if (v <= 219) return 0; // [NEWS2] SBP 111–219 → 0
  return 3; // [NEWS2] SBP ≥ 220 → 3
}

/** @param pulse beats per minute */
export function scorePulse(pulse: number): number {
  const v = roundTo(pulse, 0);
  if (v <= 40) return 3; // [NEWS2] pulse ≤ 40 → 3
  if (v <= 50) return 1; // [NEWS2] pulse 41–50 → 1
  if (v <= 90) return 0; // [NEWS2] pulse 51–90 → 0
  if (v <= 110) return 1; // [NEWS2] pulse 91–110 → 1
  if (v <= 130) return 2; // [NEWS2] pulse 111–130 → 2
  return 3; // [NEWS2] pulse ≥ 131 → 3
}

/** @param acvpu code 0..4 = A, C, V, P, U */
export function scoreConsciousness(acvpu: number): number {
  return acvpu === 0 ? 0 : 3; // [NEWS2] A → 0; C, V, P or U → 3
}

/** @param temp body temperature, °C */
export function scoreTemperature(temp: number): number {
  const v = Math.round(roundTo(temp, 1) * 10); // tenths of a degree, exact integers
  if (v <= 350) return 3; // [NEWS2] T ≤ 35.0 → 3
  if (v <= 360) return 1; // [NEWS2] T 35.1–36.0 → 1
  if (v <= 380) return 0; // [NEWS2] T 36.1–38.0 → 0
  if (v <= 390) return 1; // [NEWS2] T 38.1–39.0 → 1
  return 2; // [NEWS2] T ≥ 39.1 → 2
}

/**
 * Response band from the total and the highest single-parameter score.
 * @param total sum of parameter points
 * @param maxSingle highest points of any one parameter
 */
export function news2Band(total: number, maxSingle: number): News2Band {
  if (total >= 7) return 'high'; // [NEWS2] 7 or more → emergency response
  if (total >= 5) return 'medium'; // [NEWS2] 5–6 → urgent response
  if (maxSingle >= 3) return 'low-medium'; // [NEWS2] a 3 in any single parameter, total < 5 → urgent ward review
  if (total >= 1) return 'low'; // [NEWS2] 1–4 → ward-based response
  return 'none';
}

/** Parameter values as scored; absent means missing (not fresh). */
export type News2Inputs = Partial<Record<News2Param, number>>;

export interface News2Part {
  /** The value scored (rounded as the chart is read), in the parameter's unit. */
  readonly value: number;
  readonly points: number;
}

export interface News2Result {
  readonly score: number;
  readonly band: News2Band;
  readonly complete: boolean;
  /** Parameters with no fresh value, in NEWS2_PARAMS order. */
  readonly missing: readonly News2Param[];
  readonly parts: Partial<Record<News2Param, News2Part>>;
}

/**
 * Scores the fresh parameters. Missing ones count 0 and are listed, so an incomplete score is a
 * lower bound of the full one. On scale 2 with unknown oxygen, SpO2 ≥ 93 is scored as on air.
 */
export function scoreNews2(inputs: News2Inputs, spo2Scale: 1 | 2): News2Result {
  const parts: Partial<Record<News2Param, News2Part>> = {};
  const missing: News2Param[] = [];
  let score = 0;
  let maxSingle = 0;
  for (const p of NEWS2_PARAMS) {
    const v = inputs[p];
    if (v === undefined) {
      missing.push(p);
      continue;
    }
    const points = scoreParam(p, v, spo2Scale, (inputs.o2 ?? 0) >= 1);
    parts[p] = { value: p === 'temp' ? roundTo(v, 1) : roundTo(v, 0), points };
    score += points;
    if (points > maxSingle) maxSingle = points;
  }
  return { score, band: news2Band(score, maxSingle), complete: missing.length === 0, missing, parts };
}

/**
 * The score, band and completeness of `scoreNews2` without its parts: what deciding whether the
 * score changed needs, for every value of every patient.
 */
export function scoreNews2Totals(inputs: News2Inputs, spo2Scale: 1 | 2): { score: number; band: News2Band; complete: boolean } {
  let score = 0;
  let maxSingle = 0;
  let complete = true;
  const onOxygen = (inputs.o2 ?? 0) >= 1;
  for (const p of NEWS2_PARAMS) {
    const v = inputs[p];
    if (v === undefined) {
      complete = false;
      continue;
    }
    const points = scoreParam(p, v, spo2Scale, onOxygen);
    score += points;
    if (points > maxSingle) maxSingle = points;
  }
  return { score, band: news2Band(score, maxSingle), complete };
}

function scoreParam(p: News2Param, v: number, scale: 1 | 2, onOxygen: boolean): number {
  switch (p) {
    case 'rr':
      return scoreRespiration(v);
    case 'spo2':
      return scoreSpo2(v, scale, onOxygen);
    case 'o2':
      return scoreAirOxygen(v);
    case 'sbp':
      return scoreSystolic(v);
    case 'pulse':
      return scorePulse(v);
    case 'acvpu':
      return scoreConsciousness(v);
    case 'temp':
      return scoreTemperature(v);
  }
}
