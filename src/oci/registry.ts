import { createHash } from 'node:crypto';
import { UserError } from '../runner/errors.js';
import { HttpError, proxyFor, request } from '../runner/http.js';

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** `host[:port]/path/name[:tag]` split into its parts; lower-case as registries require. */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
}

export function parseImageRef(text: string, input = 'image'): ImageRef {
  const m =
    /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?$/.exec(
      text,
    );
  if (!m)
    throw new UserError(
      `Input \`${input}\` got \`${text}\`; it accepts \`registry/repository[:tag]\` in lower case, e.g. \`ghcr.io/org/app\` or \`127.0.0.1:5000/app:1.0.0\`.`,
    );
  return { registry: m[1], repository: m[2], tag: m[3] };
}

function isLoopback(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
}

/**
 * The token service a Bearer challenge names, if go-ship may send the registry's credentials there:
 * over HTTPS (plain HTTP only from a loopback registry to a loopback realm), on the registry's host,
 * a host under it, or its parent domain (registry-1.docker.io -> auth.docker.io, registry.gitlab.com
 * -> gitlab.com). A registry that names any other host is answered with an error, not the password.
 */
function realmOf(realm: string, registryHost: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new UserError(
      `The registry ${registryHost} named a token service \`${realm.slice(0, 200)}\` that is not a URL.`,
    );
  }
  const reg = new URL(`http://${registryHost}`).hostname;
  const labels = reg.split('.');
  const parent = labels.length > 2 && !/^[\d.]+$/.test(reg) ? labels.slice(1).join('.') : undefined;
  const under = (h: string, d: string) => h === d || h.endsWith(`.${d}`);
  const localPair = isLoopback(registryHost) && isLoopback(url.host);
  const site = localPair || under(url.hostname, reg) || (parent !== undefined && under(url.hostname, parent));
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && localPair);
  if (!site || !secure)
    throw new UserError(
      `The registry ${registryHost} asked go-ship to log in at \`${url.origin}\`, ${secure ? `which is not ${reg} or a host of its domain` : 'which is not HTTPS'}; the credentials were not sent there. go-ship, like docker login, gives a registry's password only to that registry and its own token service over HTTPS: check the image name's registry.`,
    );
  return url;
}

export interface Credentials {
  username?: string;
  password?: string;
}

/**
 * A client for the OCI distribution API: blobs (exists, cross-repository mount, monolithic upload),
 * manifests (put, get). Authentication follows the registry's challenge: Basic, or a Bearer token
 * from the realm it names. Loopback registries are spoken to over plain HTTP, as Docker does.
 */
export class Registry {
  private token?: string;

  constructor(
    readonly host: string,
    private readonly creds: Credentials = {},
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  private get base(): string {
    return `${isLoopback(this.host) ? 'http' : 'https'}://${this.host}`;
  }

  /** Credentials and tokens go to the registry's own origin only, never to an upload `Location` elsewhere. */
  private ownOrigin(url: string): boolean {
    return new URL(url).origin === new URL(this.base).origin;
  }

  /**
   * Network failures, 5xx, 408 and 429 answers are retried (4 attempts, Retry-After honoured); every
   * method here may be sent again (a second upload session or manifest PUT is harmless).
   */
  private async send(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: Buffer } = {},
    retry = true,
  ): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const headers: Record<string, string> = { ...init.headers };
    if (this.token && this.ownOrigin(url)) headers.authorization = this.token;
    let res: Response;
    try {
      res = await request(url, { method, headers, body: init.body, timeoutMs: this.timeoutMs, attempts: 4 });
    } catch (e) {
      const why = e instanceof HttpError ? e.message.replace(/^\S+ \S+ failed: /, '') : (e as Error).message;
      throw new UserError(
        `The registry ${this.host} did not answer ${method} ${path} (${why}). Check the image name's registry and that it is reachable from this runner${proxyFor(url) ? ` through the proxy ${proxyFor(url)} (HTTPS_PROXY / NO_PROXY)` : ''}.`,
      );
    }
    if (res.status === 401 && retry && this.ownOrigin(url)) {
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
      return this.send(method, path, init, false);
    }
    return res;
  }

  /** Answers a 401 challenge: Basic credentials, or a Bearer token from the realm. */
  private async authenticate(challenge: string): Promise<void> {
    const { username, password } = this.creds;
    if (!username || !password)
      throw new UserError(
        `The registry ${this.host} asks for credentials (${challenge.split(' ')[0] || '401'}); set the username and password inputs (a token goes in password), or log in before this step (docker login, docker/login-action).`,
      );
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (/^basic/i.test(challenge)) {
      this.token = basic;
      return;
    }
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm)
      throw new UserError(`The registry ${this.host} sent a challenge go-ship cannot answer: ${challenge}`);
    const url = realmOf(params.realm, this.host);
    if (params.service) url.searchParams.set('service', params.service);
    if (params.scope) url.searchParams.set('scope', params.scope);
    const res = await request(url.toString(), { headers: { authorization: basic }, timeoutMs: 60_000 });
    if (!res.ok)
      throw new UserError(
        `The registry ${this.host} refused the credentials (${res.status} from its token service); check username and password.`,
      );
    const body = (await res.json()) as { token?: string; access_token?: string };
    this.token = `Bearer ${body.token ?? body.access_token}`;
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = (await res.text()).slice(0, 300);
    const hint =
      res.status === 401 || res.status === 403 ? ' The credentials lack push access to this repository.' : '';
    throw new UserError(`The registry ${this.host} refused ${what}: ${res.status} ${text}.${hint}`);
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.send('HEAD', `/v2/${repo}/blobs/${digest}`);
    return res.ok;
  }

  /**
   * Puts a blob unless the repository has it; tries a cross-repository mount from `from` first, so a
   * base layer already in the registry is never uploaded again. Returns what happened.
   */
  async putBlob(
    repo: string,
    data: Buffer,
    digest = digestOf(data),
    from?: string,
    fetchData?: () => Promise<Buffer>,
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    if (await this.hasBlob(repo, digest)) return 'exists';
    if (from && from !== repo) {
      const m = await this.send(
        'POST',
        `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      );
      if (m.status === 201) return 'mounted';
      await m.arrayBuffer().catch(() => undefined);
    }
    // A refused mount falls back to uploading the bytes, fetched only now.
    if (fetchData) data = await fetchData();
    const start = await this.send('POST', `/v2/${repo}/blobs/uploads/`);
    if (start.status !== 202) return this.fail(start, `starting an upload to ${repo}`);
    const location = new URL(start.headers.get('location') ?? '', `${this.base}/`);
    location.searchParams.set('digest', digest);
    const put = await this.send('PUT', location.toString(), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
    });
    if (put.status !== 201) return this.fail(put, `the blob ${digest.slice(0, 19)}…`);
    return 'uploaded';
  }

  /** Puts a manifest or index under a tag or digest; returns the digest the registry computed. */
  async putManifest(repo: string, ref: string, body: Buffer, mediaType: string): Promise<string> {
    return (await this.putManifestOf(repo, ref, body, mediaType)).digest;
  }

  /**
   * Puts a manifest and says whether the registry indexed its `subject` (the `OCI-Subject` answer of
   * distribution spec 1.1); without it the client keeps the referrers tag itself.
   */
  async putManifestOf(
    repo: string,
    ref: string,
    body: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subjectIndexed: boolean }> {
    const res = await this.send('PUT', `/v2/${repo}/manifests/${ref}`, {
      headers: { 'content-type': mediaType },
      body,
    });
    if (res.status !== 201) return this.fail(res, `the manifest ${repo}:${ref}`);
    return {
      digest: res.headers.get('docker-content-digest') ?? digestOf(body),
      subjectIndexed: res.headers.has('oci-subject'),
    };
  }

  /** The referrers API (`/v2/<repo>/referrers/<digest>`): the index's manifests, or undefined when the registry has no such API. */
  async referrersApi(repo: string, digest: string): Promise<Record<string, unknown>[] | undefined> {
    const res = await this.send('GET', `/v2/${repo}/referrers/${digest}`, {
      headers: { accept: MEDIA.index },
    });
    if (res.status === 404 || res.status === 405) {
      await res.arrayBuffer().catch(() => undefined);
      return undefined;
    }
    if (!res.ok) return this.fail(res, `listing the referrers of ${digest.slice(0, 19)}…`);
    if (!(res.headers.get('content-type') ?? '').includes(MEDIA.index)) return undefined;
    return ((await res.json()) as { manifests?: Record<string, unknown>[] }).manifests ?? [];
  }

  /** A manifest or index by tag or digest, with its media type and digest; undefined when absent. */
  async getManifest(
    repo: string,
    ref: string,
  ): Promise<{ body: Buffer; mediaType: string; digest: string } | undefined> {
    const res = await this.send('GET', `/v2/${repo}/manifests/${ref}`, {
      headers: { accept: [MEDIA.index, MEDIA.manifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ') },
    });
    if (res.status === 404) return undefined;
    if (!res.ok) return this.fail(res, `reading ${repo}:${ref}`);
    const body = Buffer.from(await res.arrayBuffer());
    return {
      body,
      mediaType: res.headers.get('content-type') ?? '',
      digest: res.headers.get('docker-content-digest') ?? digestOf(body),
    };
  }

  /** The repository's tags; empty when the repository does not exist yet. */
  async listTags(repo: string): Promise<string[]> {
    const res = await this.send('GET', `/v2/${repo}/tags/list?n=10000`);
    if (res.status === 404) return [];
    if (!res.ok) return this.fail(res, `listing the tags of ${repo}`);
    return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const res = await this.send('GET', `/v2/${repo}/blobs/${digest}`);
    if (!res.ok) return this.fail(res, `reading blob ${digest.slice(0, 19)}…`);
    const body = Buffer.from(await res.arrayBuffer());
    if (digestOf(body) !== digest)
      throw new UserError(
        `The registry ${this.host} sent blob ${digest.slice(0, 19)}… with different content.`,
      );
    return body;
  }
}
