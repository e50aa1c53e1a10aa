import { describe, expect, it } from 'vitest';
import { LineFramer, createLineFramer } from '../../../src/sources/serial-line-framer.js';

const frames = (items: ReturnType<LineFramer['push']>) => items.map((i) => ('frame' in i ? i.frame.toString('latin1') : i));

describe('line framer', () => {
  it('splits at LF, drops one CR before it, and keeps empty lines', () => {
    const framer = createLineFramer();
    expect(frames(framer.push(Buffer.from('one\r\ntwo\n\r\n\nthree\r\r\nfour')))).toEqual(['one', 'two', '', '', 'three\r']);
    expect(framer.buffered).toBe(4);
    expect(frames(framer.push(Buffer.from('\r\n')))).toEqual(['four']);
    expect(framer.buffered).toBe(0);
  });

  it('holds a line of exactly maxBytes and discards one byte more', () => {
    const framer = new LineFramer({ maxBytes: 8 });
    expect(frames(framer.push(Buffer.from('12345678\n')))).toEqual(['12345678']);
    expect(frames(framer.push(Buffer.from('123456789\nok\n')))).toEqual([
      { error: 'line_too_long', bytes: 8 },
      { error: 'line_too_long', bytes: 1 },
      'ok',
    ]);
  });

  it('reports a newline-free stream every maxBytes while holding nothing', () => {
    const framer = new LineFramer({ maxBytes: 8 });
    const items = framer.push(Buffer.alloc(30, 0x41));
    expect(items).toEqual([
      { error: 'line_too_long', bytes: 8 },
      { error: 'line_too_long', bytes: 8 },
      { error: 'line_too_long', bytes: 8 },
    ]);
    expect(framer.buffered).toBe(0);
    expect(frames(framer.push(Buffer.from('\nnext\n')))).toEqual([{ error: 'line_too_long', bytes: 6 }, 'next']);
  });

  it('skips NUL fill before a line, however long, so the line after it is kept; NULs inside a line stay', () => {
    const framer = new LineFramer({ maxBytes: 8 });
    expect(frames(framer.push(Buffer.alloc(30, 0)))).toEqual([]);
    expect(framer.buffered).toBe(0);
    expect(frames(framer.push(Buffer.concat([Buffer.alloc(20, 0), Buffer.from('ok\n\0\0a\0b\n')])))).toEqual(['ok', 'a\0b']);
  });

  it('copies what it holds, so a reused read buffer cannot change a frame', () => {
    const framer = createLineFramer();
    const chunk = Buffer.from('abc');
    framer.push(chunk);
    chunk.fill(0x7a);
    expect(frames(framer.push(Buffer.from('\n')))).toEqual(['abc']);
  });

  it('rejects a bound that is not a positive integer', () => {
    expect(() => new LineFramer({ maxBytes: 0 })).toThrow(RangeError);
    expect(() => new LineFramer({ maxBytes: 1.5 })).toThrow(RangeError);
  });
});
