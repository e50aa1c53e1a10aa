/**
 * A bare MQTT 3.1.1 client over a real TCP socket for tests that must send what a library would
 * not (a QoS 2 PUBLISH retransmitted with DUP, a PUBREL withheld across a reconnect): packets are
 * built and parsed by mqtt-packet, and every packet the broker sends is kept in order.
 */
import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { until } from './wait.js';

export class RawMqtt {
  /** Every packet received so far. */
  readonly received: Packet[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    const parser = mqttPacket.parser();
    parser.on('packet', (p) => this.received.push(p));
    socket.on('data', (b) => parser.parse(b));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  /** Opens a TCP connection to the broker (nothing is sent yet). */
  static open(port: number): Promise<RawMqtt> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawMqtt(s)));
      s.once('error', reject);
    });
  }

  /** Connects and returns the CONNACK's return code. */
  static async connect(port: number, o: { clientId: string; username: string; password: string; clean?: boolean }): Promise<{ client: RawMqtt; returnCode: number }> {
    const client = await RawMqtt.open(port);
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: o.clean ?? true, clientId: o.clientId, keepalive: 0, username: o.username, password: Buffer.from(o.password) });
    const ack = await client.next('connack');
    return { client, returnCode: (ack as { returnCode: number }).returnCode };
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet));
  }

  /** Writes raw bytes. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for the next not yet taken packet of kind `cmd` (and, if given, packet id). */
  async next(cmd: Packet['cmd'], messageId?: number): Promise<Packet> {
    const match = (p: Packet) => p.cmd === cmd && (messageId === undefined || (p as { messageId?: number }).messageId === messageId);
    await until(() => this.received.some(match) || this.closed, `${cmd}${messageId !== undefined ? ` ${messageId}` : ''} from the broker`);
    const i = this.received.findIndex(match);
    if (i < 0) throw new Error(`connection closed before ${cmd} arrived`);
    return this.received.splice(i, 1)[0]!;
  }

  /** Waits until the broker closed the connection. */
  async waitClosed(): Promise<void> {
    await until(() => this.closed, 'the broker to close the connection');
  }

  end(): void {
    this.socket.destroy();
  }
}
