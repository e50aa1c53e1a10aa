/**
 * A scripted stand-in for an HTTP endpoint on 127.0.0.1 (InfluxDB's write API, or an alarm
 * webhook): each request is answered by a test-supplied function, so a test can play 429s, 5xx,
 * 400s on particular lines, auth errors and dropped connections through the real HTTP client.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedRequest {
  readonly n: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly lines: string[];
  /** The whole request body, as sent. */
  readonly body: string;
}

export type ScriptedReply =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Destroys the socket without answering (a network error for the client). */
  | 'reset'
  /** Never answers: the request stays open until the client gives up or the server closes. */
  | 'hang';

export interface ScriptedInflux {
  readonly url: string;
  readonly requests: ScriptedRequest[];
  /** Lines from requests answered 2xx, in arrival order. */
  readonly accepted: string[];
  /** Numbers of `'hang'` requests whose client closed the connection. */
  readonly aborted: number[];
  close(): Promise<void>;
}

export async function startScriptedInflux(reply: (req: ScriptedRequest) => ScriptedReply): Promise<ScriptedInflux> {
  const requests: ScriptedRequest[] = [];
  const accepted: string[] = [];
  const aborted: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const scripted: ScriptedRequest = { n: requests.length + 1, method: req.method ?? '', url: req.url ?? '', headers: req.headers, lines: body === '' ? [] : body.split('\n'), body };
      requests.push(scripted);
      const answer = reply(scripted);
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      if (answer === 'hang') {
        res.on('close', () => aborted.push(scripted.n));
        return;
      }
      const send = (): void => {
        if (answer.status >= 200 && answer.status < 300) accepted.push(...scripted.lines);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? (answer.status === 204 ? undefined : JSON.stringify({ code: 'scripted', message: `status ${answer.status}` })));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted,
    aborted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
