import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { closeQuietly, type ClosablePort } from '../../../src/sources/serial-port.js';

/** A port as the serialport stream presents one: open, closing (a close under way) or closed. */
class StandInPort extends EventEmitter {
  isOpen = true;
  closing = false;
  closeCalls = 0;
  /** Finishes a close under way, as the binding does once the descriptor is closed. */
  finishClose(): void {
    this.closing = false;
    this.emit('close', null);
  }
  close(callback?: (err?: Error | null) => void): void {
    this.closeCalls++;
    this.isOpen = false;
    this.closing = true;
    this.once('close', () => callback?.(null));
  }
}

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('closeQuietly', () => {
  it('closes an open port and resolves once the binding has closed it', async () => {
    const port = new StandInPort();
    port.on('data', () => undefined);
    const closed = closeQuietly(port as unknown as ClosablePort);
    expect(port.closeCalls).toBe(1);
    expect(port.listenerCount('data')).toBe(0);
    expect(await settled(closed)).toBe(false);
    port.finishClose();
    expect(await settled(closed)).toBe(true);
  });

  it('waits for a close the stream already began (the device went away), and does not close twice', async () => {
    const port = new StandInPort();
    port.isOpen = false; // the stream reports a port it is closing as not open
    port.closing = true;
    const closed = closeQuietly(port as unknown as ClosablePort);
    expect(await settled(closed)).toBe(false);
    expect(port.closeCalls).toBe(0);
    port.finishClose();
    expect(await settled(closed)).toBe(true);
  });

  it('resolves when a close under way fails, and at once for a port that is closed', async () => {
    const failing = new StandInPort();
    failing.isOpen = false;
    failing.closing = true;
    const closed = closeQuietly(failing as unknown as ClosablePort);
    failing.closing = false;
    failing.emit('error', new Error('EIO'));
    expect(await settled(closed)).toBe(true);

    const shut = new StandInPort();
    shut.isOpen = false;
    expect(await settled(closeQuietly(shut as unknown as ClosablePort))).toBe(true);
    expect(shut.closeCalls).toBe(0);
  });
});
