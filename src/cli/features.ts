/** Subcommands contributed by feature modules (demo, replay, sim, bench), in help order. */
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { simCommand } from './sim.js';
import { replayCommand } from './replay.js';

export const commandsFromFeatures: readonly Command[] = [demoCommand, replayCommand, simCommand];
