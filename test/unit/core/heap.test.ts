import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_OPTIONS, tuneHeap } from '../../../src/core/heap.js';

describe('tuneHeap', () => {
  it('names the launch options missing from both the command line and NODE_OPTIONS', () => {
    expect(tuneHeap([], '')).toEqual([...GATEWAY_NODE_OPTIONS]);
    expect(tuneHeap(['--max-semi-space-size=32'], '')).toEqual([]);
    expect(tuneHeap([], '--enable-source-maps --max-semi-space-size=64')).toEqual([]);
    expect(tuneHeap(['--max-old-space-size=512'], '--max-semi-space')).toEqual([...GATEWAY_NODE_OPTIONS]);
  });
});
