/** Subcommands contributed by feature modules (demo, replay, sim, bench), in help order. */
import type { Command } from './command.js';

export const commandsFromFeatures: readonly Command[] = [];
