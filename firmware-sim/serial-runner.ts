/**
 * Plays a simulated serial device in real time: pulls chunks from `SimDevice.generate` and writes
 * each when its device time comes due. Like a real RS-232 device it never waits for a reader:
 * bytes the other end does not take are dropped and counted. A device that sends nothing unasked
 * (the S/5 DRI) also reads what the host writes, and sends only what it was asked for.
 */
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { log } from '../src/core/log.js';
import type { SimDevice } from './device.js';
import type { SocatPair } from './socat.js';

export interface SerialRunnerOptions {
  /** Path written to: a tty, or the device end of a pty pair. */
  readonly path: string;
  /** When set, the runner owns this socat pair: pulling the cable ends socat, replugging restarts it. */
  readonly socat?: SocatPair;
  /** Device seconds to run; default until stopped. */
  readonly durationS?: number;
  /** Device seconds per real second. Default 1 (real time). */
  readonly speed?: number;
}

export interface SerialRunnerStats {
  readonly chunks: number;
  readonly bytes: number;
  /** Bytes the other end did not take (nobody reading, buffer full). */
  readonly dropped: number;
  readonly unplugs: number;
  readonly openErrors: number;
  /** Requests from the host the device understood (devices that wait to be asked). */
  readonly requests: number;
  /** Emissions not sent because the host had not asked for them. */
  readonly withheld: number;
}

/** How often a device that waits to be asked looks for bytes from the host, ms. */
const READ_POLL_MS = 20;

export interface SerialRunner {
  stats(): SerialRunnerStats;
  /** Resolves when the run reaches its duration or is stopped. */
  finished(): Promise<void>;
  stop(): Promise<void>;
}

export function runSerialDevice(device: SimDevice, options: SerialRunnerOptions): SerialRunner {
  const logger = log().child({ component: 'sim-serial', deviceId: device.id });
  const speed = options.speed ?? 1;
  const stats = { chunks: 0, bytes: 0, dropped: 0, unplugs: 0, openErrors: 0, requests: 0, withheld: 0 };
  // A new link per cable: after a replug the monitor waits for a new request.
  let link = device.encoder.createHostLink?.();
  let requestsBefore = 0;
  let poll: NodeJS.Timeout | undefined;
  const readBuffer = Buffer.alloc(4096);
  const chunks = device.generate(0, options.durationS ?? Infinity);
  const t0 = performance.now();
  let fd: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveFinished: () => void = () => {};
  const finishedPromise = new Promise<void>((r) => (resolveFinished = r));

  const open = (): void => {
    try {
      // Non-blocking: a full pty must not block a libuv worker thread forever.
      fd = openSync(options.path, (link ? constants.O_RDWR : constants.O_WRONLY) | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (err) {
      stats.openErrors++;
      logger.warn({ path: options.path, err: (err as Error).message }, 'cannot open serial path; output dropped until the next replug');
    }
  };
  const close = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  /** Reads what the host wrote, if anything (non-blocking). */
  const readHost = (): void => {
    if (fd === undefined || !link) return;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, readBuffer, 0, readBuffer.length, null);
      } catch (err) {
        // EAGAIN: nothing to read; anything else shows on the next write.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') logger.debug({ err: (err as Error).message }, 'read from host failed');
        return;
      }
      if (n <= 0) return;
      link.receive(Buffer.from(readBuffer.subarray(0, n)));
      stats.requests = requestsBefore + link.requests;
    }
  };
  if (link) {
    poll = setInterval(readHost, READ_POLL_MS);
    poll.unref();
  }
  const write = (bytes: Buffer): void => {
    if (fd === undefined) {
      stats.dropped += bytes.length;
      return;
    }
    try {
      const n = writeSync(fd, bytes);
      stats.bytes += n;
      stats.dropped += bytes.length - n;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') stats.dropped += bytes.length;
      else {
        logger.warn({ path: options.path, err: code }, 'write failed; reopening');
        stats.dropped += bytes.length;
        close();
        open();
      }
    }
  };

  const step = async (): Promise<void> => {
    timer = undefined;
    for (;;) {
      if (stopped) return;
      const next = chunks.next();
      if (next.done) {
        // Run to the end of the duration, not just to the last emission before it.
        const rest = options.durationS !== undefined ? t0 + (options.durationS * 1000) / speed - performance.now() : 0;
        if (rest > 0) await new Promise<void>((r) => (timer = setTimeout(r, rest)));
        await finish();
        return;
      }
      const chunk = next.value;
      const wait = t0 + (chunk.t * 1000) / speed - performance.now();
      if (wait > 0) await new Promise<void>((r) => (timer = setTimeout(r, wait)));
      if (stopped) return;
      if (chunk.kind === 'data') {
        readHost();
        if (link && !link.sends(chunk.t)) {
          stats.withheld++;
          continue;
        }
        stats.chunks++;
        write(chunk.bytes);
      } else if (chunk.kind === 'unplug') {
        stats.unplugs++;
        logger.info({ t: chunk.t }, 'cable pulled');
        close();
        await options.socat?.stop();
      } else {
        logger.info({ t: chunk.t }, 'cable back');
        await options.socat?.start().catch((err: Error) => logger.error({ err: err.message }, 'socat restart failed'));
        if (link) {
          requestsBefore += link.requests;
          link = device.encoder.createHostLink?.();
        }
        open();
      }
    }
  };

  const finish = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    if (poll) clearInterval(poll);
    close();
    resolveFinished();
  };

  open();
  void step();

  return {
    stats: () => ({ ...stats }),
    finished: () => finishedPromise,
    async stop() {
      if (stopped) return;
      stopped = true;
      await finish();
    },
  };
}
