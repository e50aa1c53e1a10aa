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

const byName = new Map(profiles.map((p) => [p.name, p]));

/** The profile registered under `name`, or undefined. */
export function findProfile(name: string): DeviceProfile | undefined {
  return byName.get(name);
}

/** All registered profiles, for `vigil profiles` and error messages. */
export function listProfiles(): readonly DeviceProfile[] {
  return profiles;
}
