/**
 * The one table of metrics Vigil knows: canonical name, UCUM unit, export codes and the range
 * of values a sensor can physically report. Everything that names a metric (decoders, the
 * InfluxDB schema, detectors, exports) reads it from here.
 */

/** Canonical metric names. */
export const METRIC_NAMES = [
  'hr',
  'pr',
  'spo2',
  'rr',
  'temp',
  'sbp',
  'dbp',
  'map',
  'o2',
  'acvpu',
  'pi',
  'battery',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricInfo {
  /** Canonical name, also the InfluxDB field name. */
  readonly name: MetricName;
  /** Human label for logs and the nurse station. */
  readonly label: string;
  /** UCUM unit code. */
  readonly unit: string;
  /** LOINC code for export, where one exists. */
  readonly loinc?: string;
  /** IEEE 11073 MDC numeric code, where one exists. */
  readonly mdc?: number;
  /** IEEE 11073 MDC reference id, where one exists. */
  readonly mdcRef?: string;
  /**
   * Inclusive range a device can physically report. A value outside it is rejected as
   * implausible (counted, logged) rather than stored or alarmed on.
   */
  readonly min: number;
  readonly max: number;
  /** True for vital signs that detectors watch; false for device state such as battery. */
  readonly clinical: boolean;
}

const table: Record<MetricName, MetricInfo> = {
  hr: { name: 'hr', label: 'Heart rate', unit: '/min', loinc: '8867-4', mdc: 147842, mdcRef: 'MDC_ECG_HEART_RATE', min: 0, max: 350, clinical: true },
  pr: { name: 'pr', label: 'Pulse rate', unit: '/min', loinc: '8867-4', mdc: 149530, mdcRef: 'MDC_PULS_OXIM_PULS_RATE', min: 0, max: 350, clinical: true },
  spo2: { name: 'spo2', label: 'SpO2', unit: '%', loinc: '59408-5', mdc: 150456, mdcRef: 'MDC_PULS_OXIM_SAT_O2', min: 0, max: 100, clinical: true },
  rr: { name: 'rr', label: 'Respiratory rate', unit: '/min', loinc: '9279-1', mdc: 151562, mdcRef: 'MDC_RESP_RATE', min: 0, max: 150, clinical: true },
  temp: { name: 'temp', label: 'Body temperature', unit: 'Cel', loinc: '8310-5', mdc: 150364, mdcRef: 'MDC_TEMP_BODY', min: 20, max: 45, clinical: true },
  sbp: { name: 'sbp', label: 'Systolic BP', unit: 'mm[Hg]', loinc: '8480-6', mdc: 150021, mdcRef: 'MDC_PRESS_BLD_NONINV_SYS', min: 0, max: 350, clinical: true },
  dbp: { name: 'dbp', label: 'Diastolic BP', unit: 'mm[Hg]', loinc: '8462-4', mdc: 150022, mdcRef: 'MDC_PRESS_BLD_NONINV_DIA', min: 0, max: 300, clinical: true },
  map: { name: 'map', label: 'Mean arterial pressure', unit: 'mm[Hg]', loinc: '8478-0', mdc: 150023, mdcRef: 'MDC_PRESS_BLD_NONINV_MEAN', min: 0, max: 300, clinical: true },
  // 0 = room air, 1 = supplemental oxygen. [NEWS2] "air or oxygen" parameter.
  o2: { name: 'o2', label: 'Supplemental oxygen', unit: '{bool}', min: 0, max: 1, clinical: true },
  // Coded as ACVPU_CODES below. [NEWS2] consciousness parameter.
  acvpu: { name: 'acvpu', label: 'Consciousness (ACVPU)', unit: '{score}', loinc: '67775-7', min: 0, max: 4, clinical: true },
  pi: { name: 'pi', label: 'Perfusion index', unit: '%', loinc: '61006-3', min: 0, max: 100, clinical: false },
  battery: { name: 'battery', label: 'Device battery', unit: '%', min: 0, max: 100, clinical: false },
};

/** ACVPU letters in the order they are coded as numbers (A = 0 … U = 4). */
export const ACVPU_CODES = ['A', 'C', 'V', 'P', 'U'] as const;
export type Acvpu = (typeof ACVPU_CODES)[number];

export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(table, name);
}

/** The table entry for a metric. */
export function metricInfo(name: MetricName): MetricInfo {
  return table[name];
}

/** All entries, in canonical order. */
export function allMetrics(): readonly MetricInfo[] {
  return METRIC_NAMES.map((n) => table[n]);
}

/**
 * Checks a value against the metric's physical range.
 * @returns null when plausible, else a reason naming the metric and range.
 */
export function checkValue(name: MetricName, value: number): string | null {
  const info = table[name];
  if (!Number.isFinite(value)) return `${name}: value is not a finite number`;
  if (value < info.min || value > info.max) {
    return `${name}: ${value} outside plausible range ${info.min}..${info.max} ${info.unit}`;
  }
  if ((name === 'o2' || name === 'acvpu') && !Number.isInteger(value)) {
    return `${name}: ${value} must be a whole-number code`;
  }
  return null;
}
