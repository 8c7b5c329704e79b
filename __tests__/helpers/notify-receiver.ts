import { createHmac, randomBytes } from 'node:crypto';
import { readBody, startServer, type LoopbackServer } from './server.js';

export interface Told {
  event: string;
  body: Record<string, string>;
  /** The X-Go-Ship-Signature-256 header is the HMAC-SHA256 of the body with the key. */
  signed: boolean;
}

/**
 * A generic webhook receiver that records what go-ship tells it and checks the signature, and the
 * `notify` line that points at it (`webhook: <url> secret=<key>`).
 */
export async function notifyReceiver(): Promise<
  LoopbackServer & { told: Told[]; line: string; key: string }
> {
  const told: Told[] = [];
  const key = randomBytes(8).toString('hex');
  const server = await startServer(async (req, res) => {
    const raw = (await readBody(req)).toString('utf8');
    const want = `sha256=${createHmac('sha256', key).update(raw).digest('hex')}`;
    told.push({
      event: String(req.headers['x-go-ship-event']),
      body: JSON.parse(raw) as Record<string, string>,
      signed: req.headers['x-go-ship-signature-256'] === want,
    });
    res.writeHead(204).end();
  });
  return Object.assign(server, { told, key, line: `webhook: ${server.url}/hook secret=${key}` });
}
