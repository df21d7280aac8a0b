/** A webhook receiver on 127.0.0.1 for notification tests: records every JSON body it is sent. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Webhook {
  /** Base URL, e.g. `http://127.0.0.1:PORT`; a path ending in `/broken` is answered 500. */
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(data) as Record<string, unknown>);
      res.writeHead(req.url?.endsWith('/broken') ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
