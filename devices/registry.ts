/**
 * Every device profile Vigil knows, by the name used as `profile:` in the config. An unknown
 * name fails at start-up. To add a profile, export it from its folder and list it here.
 */
import type { DeviceProfile } from '../src/core/profile.js';
import { jsonV1Profile } from './json-v1/index.js';
import { masimoRadical7Profile } from './masimo-radical7/index.js';
import { nellcorN595Profile } from './nellcor-n595/index.js';
import { datexS5Profile } from './datex-s5/index.js';

const profiles: readonly DeviceProfile[] = [jsonV1Profile, masimoRadical7Profile, nellcorN595Profile, datexS5Profile];

/** Former names, still accepted so existing configs keep working. */
export const PROFILE_ALIASES: Readonly<Record<string, string>> = {
  'masimo-radical7': masimoRadical7Profile.name,
  'nellcor-n595': nellcorN595Profile.name,
  'datex-s5': datexS5Profile.name,
};

const byName = new Map(profiles.map((p) => [p.name, p]));

/** The profile registered under `name` (or a former name of it), or undefined. */
export function findProfile(name: string): DeviceProfile | undefined {
  return byName.get(Object.hasOwn(PROFILE_ALIASES, name) ? (PROFILE_ALIASES[name] ?? name) : name);
}

/** All registered profiles, for `vigil profiles` and error messages. */
export function listProfiles(): readonly DeviceProfile[] {
  return profiles;
}
