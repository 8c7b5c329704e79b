import { pushAppImages } from '../../src/oci/image.js';
import { Registry } from '../../src/oci/registry.js';
import { startServer } from '../helpers/server.js';

const image = {
  binaryName: 'app',
  binary: Buffer.from('not really a binary'),
  platform: { os: 'linux', architecture: 'amd64' },
  created: 0,
  labels: {},
};

test('a registry failing with 500 mid-push: retried three times, then a clear error, and no tag is written', async () => {
  const seen: string[] = [];
  const server = await startServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    // Retry-After: 0 so the retries come at once (the backoff itself is runner/http's test).
    if (req.method === 'POST')
      return void res.writeHead(500, { 'retry-after': '0' }).end('storage unavailable');
    res.writeHead(201).end();
  });
  try {
    const registry = new Registry(server.url.replace('http://', ''));
    await expect(pushAppImages(registry, 'app', [image], ['1.0.0'], {})).rejects.toThrow(
      /refused starting an upload to app: 500 storage unavailable/,
    );
    // One attempt and three retries.
    expect(seen.filter((s) => s.startsWith('POST /v2/app/blobs/uploads/'))).toHaveLength(4);
    expect(seen.some((s) => s.startsWith('PUT /v2/app/manifests/'))).toBe(false);
  } finally {
    await server.close();
  }
}, 30_000);

test('a registry asking for credentials that were not given: the error says which inputs to set', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="reg"' }).end();
  });
  try {
    const registry = new Registry(server.url.replace('http://', ''));
    await expect(registry.listTags('app')).rejects.toThrow(
      'asks for credentials (Bearer); set the username and password inputs',
    );
  } finally {
    await server.close();
  }
});

test('Basic credentials are sent after a Basic challenge', async () => {
  const auths: (string | undefined)[] = [];
  const server = await startServer((req, res) => {
    auths.push(req.headers.authorization);
    if (!req.headers.authorization)
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="reg"' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tags: ['1.0.0'] }));
  });
  try {
    const registry = new Registry(server.url.replace('http://', ''), { username: 'u', password: 'p' });
    expect(await registry.listTags('app')).toEqual(['1.0.0']);
    expect(auths).toEqual([undefined, `Basic ${Buffer.from('u:p').toString('base64')}`]);
  } finally {
    await server.close();
  }
});

// Untrusted input (#29 item 4): a registry's answers steered the password to other hosts. An upload
// `Location` on another host got the Basic credentials; a Bearer realm on any host, plain HTTP
// included, got the Basic password. Credentials go to the registry and its own token service only.
test('an upload Location on another host gets no credentials', async () => {
  const elsewhere: (string | undefined)[] = [];
  const other = await startServer((req, res) => {
    elsewhere.push(req.headers.authorization);
    res.writeHead(201).end();
  });
  const registry = await startServer((req, res) => {
    if (!req.headers.authorization)
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="reg"' }).end();
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    // `localhost` is another host than `127.0.0.1`, as a storage bucket is to a registry.
    const port = new URL(other.url).port;
    res.writeHead(202, { location: `http://localhost:${port}/upload/1` }).end();
  });
  try {
    const client = new Registry(registry.url.replace('http://', ''), {
      username: 'u',
      password: 'secret-pw',
    });
    expect(await client.putBlob('app', Buffer.from('layer'))).toBe('uploaded');
    expect(elsewhere).toEqual([undefined]);
  } finally {
    await registry.close();
    await other.close();
  }
});

test.each([
  [
    'on a host of another site',
    'https://token.attacker.example/token',
    /which is not 127\.0\.0\.1 or a host of its domain/,
  ],
  ['over plain HTTP', 'http://auth.example.com/token', /which is not HTTPS/],
])('a Bearer realm %s is refused and gets no password', async (_name, realm, why) => {
  const registry = await startServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="reg"` }).end();
  });
  try {
    const client = new Registry(registry.url.replace('http://', ''), {
      username: 'u',
      password: 'secret-pw',
    });
    await expect(client.listTags('app')).rejects.toThrow(why);
    await expect(client.listTags('app')).rejects.toThrow(/the credentials were not sent there/);
  } finally {
    await registry.close();
  }
});

test('a Bearer realm on a loopback token service of a loopback registry is answered', async () => {
  const asked: (string | undefined)[] = [];
  const tokens = await startServer((req, res) => {
    asked.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tkn' }));
  });
  const registry = await startServer((req, res) => {
    if (req.headers.authorization !== 'Bearer tkn')
      return void res
        .writeHead(401, { 'www-authenticate': `Bearer realm="${tokens.url}/token",service="reg"` })
        .end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tags: ['1.0.0'] }));
  });
  try {
    const client = new Registry(registry.url.replace('http://', ''), { username: 'u', password: 'p' });
    expect(await client.listTags('app')).toEqual(['1.0.0']);
    expect(asked).toEqual([`Basic ${Buffer.from('u:p').toString('base64')}`]);
  } finally {
    await registry.close();
    await tokens.close();
  }
});
