import { proxyFor, request } from '../runner/http.js';
import { log } from '../runner/log.js';
import { inertText } from '../runner/text.js';
import { inputError } from '../runner/errors.js';
import type { Inputs } from '../runner/inputs.js';
import * as workflow from '../runner/workflow.js';
import { type Channel, dingtalkSign, feishuSign, parseChannels, webhookSignature } from './channels.js';

/** What people are told about, by name (the `notify-on` input takes these). */
export const NOTIFY_EVENTS = [
  'deploy-started',
  'deploy-succeeded',
  'deploy-failed',
  'rolled-back',
  'canary-step',
  'release-published',
  'coverage-failed',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface Notice {
  event: NotifyEvent;
  /** The service or module. */
  subject: string;
  version?: string;
  environment?: string;
  /** Why, for a failure or a rollback; a canary's share for a step. */
  detail?: string;
  /** Who started the run (GITHUB_ACTOR). */
  actor?: string;
  /** The run's page. */
  runUrl?: string;
  /** Where the service answers, when it has a URL. */
  url?: string;
}

const HEADLINE: Record<NotifyEvent, string> = {
  'deploy-started': '🚀 Deploying',
  'deploy-succeeded': '✅ Deployed',
  'deploy-failed': '❌ Deploy failed:',
  'rolled-back': '↩️ Rolled back:',
  'canary-step': '🐤 Canary step:',
  'release-published': '🏷️ Released',
  'coverage-failed': '📉 Coverage gate failed on',
};

/** An action's notification settings: the channels, the events it tells (of those it has), the environment named. */
export interface NotifySettings {
  channels: Channel[];
  on: Set<NotifyEvent>;
  environment?: string;
}

/**
 * `notify` (secret, masked here line by line), `notify-on` (of `offered`, the events this action
 * has) and `environment`, read and checked.
 */
export function notifySettings(
  inputs: Inputs,
  offered: readonly NotifyEvent[],
  o: { environment: boolean } = { environment: true },
): NotifySettings {
  const text = inputs.optional('notify') ?? '';
  for (const line of text.split('\n')) if (line.trim()) workflow.setSecret(line.trim());
  const channels = parseChannels(text);
  for (const c of channels) {
    workflow.setSecret(c.url);
    if (c.secret) workflow.setSecret(c.secret);
  }
  const on = inputs.list('notify-on');
  const bad = on.find((e) => !(offered as readonly string[]).includes(e));
  if (bad)
    throw inputError(
      'notify-on',
      inputs.string('notify-on'),
      `events this step has: ${offered.join(', ')}`,
      `\`${bad}\` is not one of them.`,
    );
  return {
    channels,
    on: new Set(on as NotifyEvent[]),
    environment: o.environment ? inputs.optional('environment') : undefined,
  };
}

/** Tells the channels about `n` when its event is one `settings` asks for; a no-op without channels. */
export async function tell(
  settings: NotifySettings,
  n: Omit<Notice, 'environment' | 'actor' | 'runUrl'>,
): Promise<Sent[]> {
  if (!settings.channels.length || !settings.on.has(n.event)) return [];
  return notifyAll(settings.channels, { ...n, environment: settings.environment, ...runContext() });
}

/** The run a notice comes from, read from the runner's variables. */
export function runContext(env = process.env): Pick<Notice, 'actor' | 'runUrl'> {
  // Outside GitHub (the CLI) there is no server, so no run page to link to.
  const server = env.GITHUB_SERVER_URL;
  return {
    actor: env.GITHUB_ACTOR || undefined,
    runUrl:
      server && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined,
  };
}

/**
 * The message, short: one line that says what happened to which version where, then why (when it
 * failed), who and the run. Outside text (a reason quoting a service's answer) is made inert.
 */
export function messageOf(n: Notice): { title: string; lines: string[] } {
  const where = n.environment ? ` to ${n.environment}` : '';
  const what = `${n.subject}${n.version ? ` ${n.version}` : ''}`;
  const title =
    n.event === 'release-published' || n.event === 'coverage-failed'
      ? `${HEADLINE[n.event]} ${what}`
      : `${HEADLINE[n.event]} ${what}${where}`;
  const lines = [
    ...(n.detail ? [inertText(n.detail).slice(0, 500)] : []),
    ...(n.url ? [`URL: ${n.url}`] : []),
    ...(n.actor ? [`By ${n.actor}`] : []),
    ...(n.runUrl ? [`Run: ${n.runUrl}`] : []),
  ];
  return { title, lines };
}

/** What each kind of receiver expects, as its documentation gives the payload. */
function payloadFor(
  channel: Channel,
  n: Notice,
  now: number,
): { url: string; body: string; headers: Record<string, string> } {
  const { title, lines } = messageOf(n);
  const text = [title, ...lines].join('\n');
  const json = (body: unknown, url = channel.url, headers: Record<string, string> = {}) => ({
    url,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  switch (channel.kind) {
    case 'slack':
      return json({ text });
    case 'teams':
      // A Workflows (Power Automate) webhook takes an Adaptive Card in a message's attachments.
      return json({
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', text: title, weight: 'Bolder', wrap: true },
                ...lines.map((l) => ({ type: 'TextBlock', text: l, wrap: true })),
              ],
            },
          },
        ],
      });
    case 'dingtalk': {
      const url = new URL(channel.url);
      if (channel.secret) {
        url.searchParams.set('timestamp', String(now));
        url.searchParams.set('sign', dingtalkSign(channel.secret, now));
      }
      return json({ msgtype: 'text', text: { content: text } }, url.toString());
    }
    case 'wecom':
      return json({ msgtype: 'text', text: { content: text } });
    case 'feishu': {
      const seconds = Math.floor(now / 1000);
      return json({
        ...(channel.secret ? { timestamp: String(seconds), sign: feishuSign(channel.secret, seconds) } : {}),
        msg_type: 'text',
        content: { text },
      });
    }
    case 'webhook': {
      const body = JSON.stringify({ ...n, title, text, timestamp: new Date(now).toISOString() });
      return {
        url: channel.url,
        body,
        headers: {
          'content-type': 'application/json',
          'x-go-ship-event': n.event,
          ...(channel.secret ? { 'x-go-ship-signature-256': webhookSignature(channel.secret, body) } : {}),
        },
      };
    }
    case 'email':
      throw new Error('e-mail is not a webhook');
  }
}

/** The receiver's own verdict: chat bots answer 200 with an error code in the body. */
function refusal(kind: Channel['kind'], status: number, body: string): string | undefined {
  if (status < 200 || status > 299) return `answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
  if (kind === 'dingtalk' || kind === 'wecom' || kind === 'feishu') {
    try {
      const j = JSON.parse(body) as { errcode?: number; errmsg?: string; code?: number; msg?: string };
      const code = j.errcode ?? j.code;
      if (code !== undefined && code !== 0) return `refused it: ${code} ${j.errmsg ?? j.msg ?? ''}`.trim();
    } catch {
      return `answered ${status} with a body that is not JSON`;
    }
  }
  return undefined;
}

/**
 * E-mail over SMTP with nodemailer: `smtps://` is TLS from the first byte; `smtp://` must upgrade
 * with STARTTLS before the password is sent (requireTLS), so credentials never cross in clear.
 * Through HTTPS_PROXY (HTTP CONNECT) unless NO_PROXY names the server.
 */
async function sendEmail(channel: Channel, n: Notice): Promise<void> {
  const { createTransport } = await import('nodemailer');
  const u = new URL(channel.url);
  const secure = u.protocol === 'smtps:';
  const proxy = proxyFor(`https://${u.host}`);
  const transport = createTransport({
    host: u.hostname,
    port: Number(u.port) || (secure ? 465 : 587),
    secure,
    requireTLS: !secure,
    ...(u.username
      ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } }
      : {}),
    ...(proxy ? { proxy } : {}),
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 30_000,
  });
  const { title, lines } = messageOf(n);
  try {
    await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: title,
      text: lines.join('\n') || title,
    });
  } finally {
    transport.close();
  }
}

export interface Sent {
  kind: Channel['kind'];
  ok: boolean;
  /** Why it could not be sent. */
  why?: string;
}

/**
 * Tells every channel about `n`, side by side. A channel that cannot be reached or refuses the message
 * is a warning with the reason, never a failed step: telling people is not the deploy.
 */
export async function notifyAll(channels: Channel[], n: Notice, now = Date.now()): Promise<Sent[]> {
  return Promise.all(
    channels.map(async (channel): Promise<Sent> => {
      try {
        if (channel.kind === 'email') await sendEmail(channel, n);
        else {
          const p = payloadFor(channel, n, now);
          // Two attempts: a webhook POST is not idempotent, but a lost notice is worse than a repeated one.
          const res = await request(p.url, {
            method: 'POST',
            body: p.body,
            headers: p.headers,
            attempts: 2,
            timeoutMs: 15_000,
          });
          const why = refusal(channel.kind, res.status, (await res.text()).trim());
          if (why) throw new Error(why);
        }
        return { kind: channel.kind, ok: true };
      } catch (e) {
        const why = (e as Error).message.split('\n')[0];
        log.warning(`The ${channel.kind} notification of ${n.event} was not sent: ${why}`);
        return { kind: channel.kind, ok: false, why };
      }
    }),
  );
}
