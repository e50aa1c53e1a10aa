/**
 * The one grammar for the ids Vigil takes from outside: patients, wards, beds, devices and
 * MQTT accounts. Ids become URL path segments (`/api/census/patients/{id}`), MQTT topic levels
 * (`vigil/v1/dev/{id}/obs`), InfluxDB tag values, FHIR references (`Patient/{id}`) and file
 * names, so the grammar leaves out everything one of those gives a meaning to: `/` and `\`
 * (paths, references), `+` and `#` (topic wildcards), `,`, `=` and spaces (line protocol), `%`
 * and `?` (URLs), and ids that are only dots (`.`, `..`: path segments). Every id also fits the
 * FHIR `id` type except for the underscore ([FHIR R4] id: `[A-Za-z0-9\-\.]{1,64}`).
 */
import { z } from 'zod';

/** Longest id, characters. */
export const MAX_ID_LENGTH = 64;

/** A letter or digit first, then letters, digits, `.`, `-` or `_`; 1–64 characters. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The grammar in words, for error messages. */
export const ID_RULE = 'letters, digits, dot, dash or underscore, starting with a letter or digit, 1–64 characters';

/** True when `value` is a well-formed id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** Zod schema of an id, for the config schema and API bodies. */
export const idSchema = z.string().regex(ID_PATTERN, ID_RULE);

/**
 * Describes why `value` is not an id, quoting at most 40 characters of it so a 60,000-character
 * value does not end up whole in an error or a log line; null when it is one.
 */
export function idProblem(value: string): string | null {
  if (ID_PATTERN.test(value)) return null;
  const shown = value.length > 40 ? `${value.slice(0, 40)}… (${value.length} characters)` : value;
  return `${JSON.stringify(shown)} is not an id: ${ID_RULE}`;
}
