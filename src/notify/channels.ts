import { createHmac } from 'node:crypto';
import { inputError } from '../runner/errors.js';

/** Where a notification can go: chat tools' incoming webhooks and group bots, a signed webhook, e-mail. */
export const CHANNEL_KINDS = ['slack', 'teams', 'dingtalk', 'wecom', 'feishu', 'webhook', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export interface Channel {
  kind: ChannelKind;
  /** The webhook URL, or for e-mail `smtp://user:password@host:port` (`smtps://` for TLS from the start). */
  url: string;
  /** The signing secret: DingTalk's and Feishu's "sign" setting, the generic webhook's HMAC key. */
  secret?: string;
  /** E-mail only. */
  from?: string;
  to?: string[];
}

const SIGNED: ChannelKind[] = ['dingtalk', 'feishu', 'webhook'];

/**
 * The `notify` input: one channel a line, `<kind>: <url> [secret=<secret>]`, and for e-mail
 * `email: smtp://user:password@host:587 from=<address> to=<address>,<address>`. The whole input is a
 * secret (webhook URLs carry their tokens); errors show a line without its URL.
 */
export function parseChannels(text: string, input = 'notify'): Channel[] {
  const channels: Channel[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z]+):\s+(\S+)((?:\s+[a-z]+=\S+)*)$/.exec(line);
    // Webhook URLs carry their token in the path or the query: only the scheme and host are shown.
    const at = m ? URL.parse(m[2]) : null;
    const shown = m
      ? `${m[1]}: ${at ? `${at.protocol}//${at.host}/…` : '(not a URL)'}${m[3] ? ' …' : ''}`
      : '(a line)';
    const refuse = (why: string) =>
      inputError(
        input,
        shown,
        `one channel a line: \`<kind>: <url> [secret=…]\`, kind one of ${CHANNEL_KINDS.join(', ')}; for e-mail \`email: smtp://user:password@host:587 from=… to=…\``,
        why,
      );
    if (!m) throw refuse('The line is not `<kind>: <url>` followed by `name=value` settings.');
    const kind = m[1] as ChannelKind;
    if (!CHANNEL_KINDS.includes(kind)) throw refuse(`\`${m[1]}\` is not a channel go-ship knows.`);
    const url = URL.parse(m[2]);
    const wantScheme = kind === 'email' ? ['smtp:', 'smtps:'] : ['https:', 'http:'];
    if (!url || !wantScheme.includes(url.protocol))
      throw refuse(
        `A ${kind} channel's address is a ${wantScheme.map((s) => s.replace(':', '://')).join(' or ')} URL.`,
      );
    const settings = Object.fromEntries(
      m[3]
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const allowed = kind === 'email' ? ['from', 'to'] : SIGNED.includes(kind) ? ['secret'] : [];
    const unknown = Object.keys(settings).find((k) => !allowed.includes(k));
    if (unknown)
      throw refuse(
        `\`${unknown}=\` is not a ${kind} setting${allowed.length ? ` (it takes ${allowed.map((a) => `${a}=`).join(', ')})` : ''}.`,
      );
    const channel: Channel = { kind, url: m[2], ...(settings.secret ? { secret: settings.secret } : {}) };
    if (kind === 'email') {
      if (!settings.from || !settings.to) throw refuse('An e-mail channel needs from= and to=.');
      channel.from = settings.from;
      channel.to = settings.to.split(',').filter(Boolean);
    }
    channels.push(channel);
  }
  return channels;
}

/**
 * DingTalk's group-bot signature, as its documentation gives it: HMAC-SHA256 keyed with the secret
 * over `<timestamp ms>\n<secret>`, Base64, then URL-encoded into `&timestamp=…&sign=…`.
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/**
 * Feishu's (Lark's) custom-bot signature, as its documentation gives it: HMAC-SHA256 keyed with
 * `<timestamp s>\n<secret>` over an empty message, Base64, sent in the body beside the timestamp.
 */
export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

/** The generic webhook's signature header value, as GitHub signs its own webhooks: `sha256=<hex>`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
