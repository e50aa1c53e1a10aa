// Appends without pause from many concurrent callers and prints "<seq> <key>" for every append
// whose promise resolved, until it is killed. Used by crash.test.ts.
// argv: <compiled spool.js> <spool dir> <round>
const [spoolJs, dir, round] = process.argv.slice(2);
const { Spool } = await import(spoolJs);
const spool = await Spool.open({ dir, maxBytes: 1 << 30, segmentBytes: 64 * 1024, commitIntervalMs: 1 });
process.stdout.write(`ready ${spool.stats().lastSeq}\n`);
let next = 0;
async function appender() {
  for (;;) {
    const key = `${round}:${next++}`;
    const seq = await spool.append([Buffer.from(key.padEnd(200, '.'))]);
    // A pipe is written synchronously on Linux, so a printed ack reaches the parent even when
    // the kill comes right after.
    process.stdout.write(`${seq} ${key}\n`);
  }
}
for (let i = 0; i < 64; i++) void appender();
