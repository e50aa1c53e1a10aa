/**
 * The ceiling for the benchmark: plain aedes on a TCP port with no hooks (no authentication,
 * no ACL, no spool, no detectors), run as its own process like the gateway. It accepts every
 * client and acknowledges every QoS 1 publish. The parent reads the port from the IPC channel
 * and stops it with SIGTERM.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 0);
const broker = await Aedes.createBroker();
const server = createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  process.send?.({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : port });
});
server.on('error', (err) => {
  process.send?.({ type: 'error', message: err.message });
  process.exit(1);
});
const stop = (): void => {
  server.close();
  broker.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
