import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { parseChannels } from '../../src/notify/channels.js';
import { type Notice, messageOf, notifyAll } from '../../src/notify/notify.js';
import { describeWith } from '../helpers/components.js';
import { quietly } from '../helpers/quiet.js';
import { readBody, startServer } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

const notice: Notice = {
  event: 'rolled-back',
  subject: 'hello',
  version: 'v1.4.0',
  environment: 'production',
  detail: 'verify: /healthz → HTTP 500 (want 200)',
  actor: 'octocat',
  runUrl: 'https://github.com/o/r/actions/runs/7',
  url: 'https://hello.example.com',
};

interface Received {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, unknown>;
}

/**
 * Receivers that check what each vendor documents: the payload's shape, and for DingTalk and Feishu
 * the signature, recomputed here from their published algorithms (not with go-ship's code), answering
 * as the vendor does (200 with an error code in the body when the signature is wrong).
 */
async function receivers(secrets: { dingtalk: string; feishu: string; webhook: string }) {
  const got: Received[] = [];
  const server = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const raw = (await readBody(req)).toString('utf8');
    const r: Received = {
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      raw,
      body: JSON.parse(raw),
    };
    got.push(r);
    const json = (o: unknown) =>
      void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    switch (url.pathname) {
      case '/slack':
        return void res.writeHead(200).end('ok');
      case '/teams':
        return void res.writeHead(202).end();
      case '/dingtalk': {
        // timestamp + "\n" + secret, HmacSHA256 keyed with the secret, Base64, URL-encoded.
        const ts = url.searchParams.get('timestamp') ?? '';
        const mac = createHmac('sha256', Buffer.from(secrets.dingtalk, 'utf8'));
        const want = mac.update(Buffer.from(`${ts}\n${secrets.dingtalk}`, 'utf8')).digest('base64');
        const fresh = Math.abs(Date.now() - Number(ts)) < 3_600_000;
        return json(
          url.searchParams.get('sign') === want && fresh
            ? { errcode: 0, errmsg: 'ok' }
            : { errcode: 310000, errmsg: 'sign not match' },
        );
      }
      case '/wecom':
        return json({ errcode: 0, errmsg: 'ok' });
      case '/feishu': {
        // timestamp (seconds) + "\n" + secret as the HmacSHA256 key, over an empty message, Base64.
        const ts = String(r.body.timestamp ?? '');
        const want = createHmac('sha256', `${ts}\n${secrets.feishu}`).digest('base64');
        const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 3600;
        return json(
          r.body.sign === want && fresh
            ? { code: 0, msg: 'success' }
            : { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' },
        );
      }
      case '/webhook': {
        const want = `sha256=${createHmac('sha256', secrets.webhook).update(raw).digest('hex')}`;
        return void res.writeHead(req.headers['x-go-ship-signature-256'] === want ? 204 : 401).end();
      }
      default:
        return void res.writeHead(404).end('no such hook');
    }
  });
  return { server, got };
}

test('parseChannels: one channel a line; mistakes named without the URL, which holds the token', () => {
  const channels = parseChannels(
    [
      'slack: https://hooks.slack.com/services/T0/B0/SECRET1',
      '# a comment',
      'dingtalk: https://oapi.dingtalk.com/robot/send?access_token=TOKEN2 secret=SECabc',
      'email: smtp://ci:pass@smtp.example.com:587 from=ci@example.com to=a@example.com,b@example.com',
    ].join('\n'),
  );
  expect(channels.map((c) => c.kind)).toEqual(['slack', 'dingtalk', 'email']);
  expect(channels[1].secret).toBe('SECabc');
  expect(channels[2]).toMatchObject({ from: 'ci@example.com', to: ['a@example.com', 'b@example.com'] });
  const refused = (line: string) => {
    try {
      parseChannels(line);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`accepted: ${line}`);
  };
  expect(refused('pager: https://x.example.com/TOKEN3')).toMatch(/`pager` is not a channel go-ship knows/);
  expect(refused('email: https://mail.example.com/TOKEN4 from=a@x to=b@x')).toMatch(
    /smtp:\/\/ or smtps:\/\/ URL/,
  );
  expect(refused('slack: https://hooks.slack.com/services/TOKEN5 secret=x')).toMatch(
    /`secret=` is not a slack setting/,
  );
  expect(refused('email: smtp://u:TOKEN6@mail.example.com to=b@x')).toMatch(/needs from= and to=/);
  expect(refused('slack https://hooks.slack.com/TOKEN7')).toMatch(/is not `<kind>: <url>`/);
  for (const n of [3, 4, 5, 6, 7])
    expect(
      refused(
        [
          '',
          'pager: https://x.example.com/TOKEN3',
          'email: https://mail.example.com/TOKEN4 from=a@x to=b@x',
          'slack: https://hooks.slack.com/services/TOKEN5 secret=x',
          'email: smtp://u:TOKEN6@mail.example.com to=b@x',
          'slack https://hooks.slack.com/TOKEN7',
        ][n - 2],
      ),
    ).not.toContain(`TOKEN${n}`);
});

test('messageOf: short, with the version, the environment, who and the run; outside text inert', () => {
  const m = messageOf({ ...notice, detail: 'bad \u001b[31mred\u001b[0m' });
  expect(m.title).toBe('↩️ Rolled back: hello v1.4.0 to production');
  expect(m.lines).toEqual([
    'bad \\u{001b}[31mred\\u{001b}[0m',
    'URL: https://hello.example.com',
    'By octocat',
    'Run: https://github.com/o/r/actions/runs/7',
  ]);
});

test('every webhook notifier against a receiver that checks the documented payload and signature', async () => {
  const secrets = { dingtalk: 'SECdingtalk-secret', feishu: 'feishu-secret', webhook: 'hmac-key' };
  const { server, got } = await receivers(secrets);
  try {
    const u = server.url;
    const channels = parseChannels(
      [
        `slack: ${u}/slack`,
        `teams: ${u}/teams`,
        `dingtalk: ${u}/dingtalk?access_token=tok secret=${secrets.dingtalk}`,
        `wecom: ${u}/wecom?key=k`,
        `feishu: ${u}/feishu secret=${secrets.feishu}`,
        `webhook: ${u}/webhook secret=${secrets.webhook}`,
      ].join('\n'),
    );
    const sent = await quietly(() => notifyAll(channels, notice));
    expect(sent).toEqual(channels.map((c) => ({ kind: c.kind, ok: true })));
    const at = (path: string) => got.find((g) => g.path === path)!;
    const title = '↩️ Rolled back: hello v1.4.0 to production';
    expect(String(at('/slack').body.text)).toMatch(new RegExp(`^${title}\\nverify: `));
    const card = (
      at('/teams').body.attachments as {
        contentType: string;
        content: { type: string; body: { text: string }[] };
      }[]
    )[0];
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.type).toBe('AdaptiveCard');
    expect(card.content.body[0].text).toBe(title);
    expect(at('/dingtalk').body).toMatchObject({
      msgtype: 'text',
      text: { content: expect.stringContaining(title) },
    });
    expect(at('/dingtalk').query.get('access_token')).toBe('tok');
    expect(at('/wecom').body).toMatchObject({
      msgtype: 'text',
      text: { content: expect.stringContaining(title) },
    });
    expect(at('/feishu').body).toMatchObject({
      msg_type: 'text',
      content: { text: expect.stringContaining(title) },
    });
    expect(at('/webhook').headers['x-go-ship-event']).toBe('rolled-back');
    expect(at('/webhook').body).toMatchObject({
      event: 'rolled-back',
      subject: 'hello',
      version: 'v1.4.0',
      environment: 'production',
    });
  } finally {
    await server.close();
  }
});

test('a notification that cannot be sent is a warning with the reason, never a failure', async () => {
  const { server } = await receivers({ dingtalk: 'right', feishu: 'right', webhook: 'right' });
  try {
    const u = server.url;
    const channels = parseChannels(
      [
        `dingtalk: ${u}/dingtalk?access_token=t secret=wrong`,
        `feishu: ${u}/feishu secret=wrong`,
        `webhook: ${u}/webhook secret=wrong`,
        `slack: ${u}/gone`,
        'wecom: http://127.0.0.1:1/unreachable',
      ].join('\n'),
    );
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    const sent = await notifyAll(channels, notice).finally(() => (process.stdout.write = write));
    expect(sent.map((s) => [s.kind, s.ok])).toEqual([
      ['dingtalk', false],
      ['feishu', false],
      ['webhook', false],
      ['slack', false],
      ['wecom', false],
    ]);
    expect(sent[0].why).toBe('refused it: 310000 sign not match');
    expect(sent[1].why).toMatch(/^refused it: 19021 sign match fail/);
    expect(sent[2].why).toMatch(/answered 401/);
    expect(sent[3].why).toMatch(/answered 404: no such hook/);
    expect(sent[4].why).toMatch(/ECONNREFUSED|failed/);
    expect(lines.join('\n')).toMatch(
      /The dingtalk notification of rolled-back was not sent: refused it: 310000/,
    );
  } finally {
    await server.close();
  }
});

// The SMTP server scripts/components.sh starts: STARTTLS required before AUTH, AUTH before MAIL.
const SMTP = '/tmp/go-ship-components/smtp';
const smtpUp = () => {
  if (!existsSync(join(SMTP, 'address'))) return false;
  const [host, port] = readFileSync(join(SMTP, 'address'), 'utf8').trim().split(':');
  return spawnSync('bash', ['-c', `exec 3<>/dev/tcp/${host}/${port}`]).status === 0;
};

describeWith(
  'an SMTP server with STARTTLS and AUTH (scripts/components.sh start)',
  smtpUp(),
  'e-mail',
  () => {
    // Run in a child Node that trusts the test CA (NODE_EXTRA_CA_CERTS is read at start), as a runner
    // with a company CA would.
    const send = (url: string) => {
      const script = `import { notifyAll } from ${JSON.stringify(join(ROOT, 'src', 'notify', 'notify.ts'))};
import { parseChannels } from ${JSON.stringify(join(ROOT, 'src', 'notify', 'channels.ts'))};
const sent = await notifyAll(parseChannels(process.env.LINE), JSON.parse(process.env.NOTICE));
process.stdout.write(JSON.stringify(sent));`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          NODE_EXTRA_CA_CERTS: join(SMTP, 'ca.pem'),
          LINE: `email: ${url} from=go-ship@example.com to=team@example.com,ops@example.com`,
          NOTICE: JSON.stringify(notice),
        },
      });
      return JSON.parse(out.slice(out.indexOf('[{'))) as { ok: boolean; why?: string }[];
    };

    test('received by a real SMTP server over STARTTLS, logged in, with the subject and body', () => {
      const [user, password] = readFileSync(join(SMTP, 'credentials'), 'utf8').trim().split('\n');
      const address = readFileSync(join(SMTP, 'address'), 'utf8').trim().replace('127.0.0.1', 'localhost');
      const before = new Set(readdirSync(join(SMTP, 'mail')));
      expect(send(`smtp://${user}:${password}@${address}`)).toEqual([{ kind: 'email', ok: true }]);
      const mine = readdirSync(join(SMTP, 'mail')).filter((f) => f.endsWith('.json') && !before.has(f));
      expect(mine).toHaveLength(1);
      const mail = JSON.parse(readFileSync(join(SMTP, 'mail', mine[0]), 'utf8')) as {
        from: string;
        to: string[];
        data: string;
        subject: string;
        body: string;
        user: string;
        tls: boolean;
      };
      expect(mail).toMatchObject({
        from: 'go-ship@example.com',
        to: ['team@example.com', 'ops@example.com'],
        tls: true,
      });
      expect(mail.user).toBe(user);
      expect(mail.subject).toBe('↩️ Rolled back: hello v1.4.0 to production');
      expect(mail.body.trim().split(/\r?\n/)).toEqual([
        'verify: /healthz → HTTP 500 (want 200)',
        'URL: https://hello.example.com',
        'By octocat',
        'Run: https://github.com/o/r/actions/runs/7',
      ]);
    });

    test("a wrong password is a warning with the server's answer, and nothing is delivered", () => {
      const address = readFileSync(join(SMTP, 'address'), 'utf8').trim().replace('127.0.0.1', 'localhost');
      const before = readdirSync(join(SMTP, 'mail')).length;
      const [r] = send(`smtp://go-ship:wrong@${address}`);
      expect(r.ok).toBe(false);
      expect(r.why).toMatch(/535|[Aa]uthentication/);
      expect(readdirSync(join(SMTP, 'mail')).length).toBe(before);
    });
  },
);

// A server that does not offer STARTTLS (a misconfigured relay, or someone in the path stripping it
// from the EHLO answer) must never be sent the password: the send fails before AUTH, as a warning.
test('no STARTTLS offered: refused before AUTH, the password never sent, a warning not a failure', async () => {
  const heard: string[] = [];
  const server = createServer((socket) => {
    socket.write('220 relay.example.com ESMTP\r\n');
    let buffer = '';
    socket.on('data', (b) => {
      buffer += b.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        heard.push(line);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO')
          socket.write('250-relay.example.com\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
        else if (verb === 'AUTH') socket.write('235 2.7.0 Accepted\r\n');
        else if (verb === 'QUIT') socket.end('221 Bye\r\n');
        // As a server without TLS answers a command it does not know.
        else if (verb === 'STARTTLS') socket.write('502 5.5.1 Unrecognized command\r\n');
        else socket.write('250 OK\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const line = `email: smtp://go-ship:hunter2-secret@127.0.0.1:${port} from=go-ship@example.com to=team@example.com`;
    const [r] = await quietly(() => notifyAll(parseChannels(line), notice));
    expect(r).toMatchObject({ kind: 'email', ok: false });
    expect(r.why).toMatch(/STARTTLS/i);
    expect(heard.some((l) => /^EHLO /i.test(l))).toBe(true);
    expect(heard.filter((l) => /^(AUTH|MAIL|RCPT|DATA)/i.test(l))).toEqual([]);
    const plain = Buffer.from('\0go-ship\0hunter2-secret').toString('base64');
    expect(heard.join('\n')).not.toContain(plain);
    expect(heard.join('\n')).not.toContain('hunter2-secret');
  } finally {
    server.close();
  }
});
