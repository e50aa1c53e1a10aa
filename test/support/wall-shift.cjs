// Preloaded into a gateway process by tests (NODE_OPTIONS=--require): shifts its wall clock
// (Date.now) by the milliseconds written in the file named by VIGIL_TEST_WALL_SHIFT_FILE, read
// again at most every 50 ms, as a wall clock stepped by NTP would move. The monotonic clock
// (performance.now) is left alone.
'use strict';
const { readFileSync } = require('node:fs');
const file = process.env.VIGIL_TEST_WALL_SHIFT_FILE;
if (file) {
  const realNow = Date.now;
  let shift = 0;
  let readAt = -Infinity;
  Date.now = () => {
    const t = performance.now();
    if (t - readAt >= 50) {
      readAt = t;
      try {
        shift = Number(readFileSync(file, 'utf8').trim()) || 0;
      } catch {
        shift = 0;
      }
    }
    return realNow() + shift;
  };
}
