/** Subcommands contributed by feature modules (demo, replay, sim, bench), in help order. */
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { simCommand } from './sim.js';
import { replayCommand } from './replay.js';
import { burdenCommand } from './burden.js';
import { userCommand } from './user.js';
import { benchCommand } from './bench.js';

export const commandsFromFeatures: readonly Command[] = [demoCommand, replayCommand, burdenCommand, simCommand, benchCommand, userCommand];
