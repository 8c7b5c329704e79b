import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest, type Agent } from 'node:http';
import tunnel from 'tunnel';
import { proxyFor } from '../../../runner/http.js';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { runCommand } from '../../../runner/command.js';
import { UserError } from '../../../runner/errors.js';
import { withoutCredentials } from '../../../runner/text.js';
import { log } from '../../../runner/log.js';

/** What a kubeconfig's current context resolves to. Secrets in it are masked as soon as they are read. */
export interface KubeConnection {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  namespace: string;
  context: string;
  /** The cluster's `proxy-url`; without one, HTTPS_PROXY / NO_PROXY decide. */
  proxyUrl?: string;
  /** Where the kubeconfig came from, for messages (never its content). */
  source: string;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Kubeconfig = {
  'current-context'?: string;
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<Record<string, string>>[];
};

/** The kubeconfig file to use: `KUBECONFIG` (its first existing entry), else ~/.kube/config. */
export function kubeconfigPath(env = process.env): string | undefined {
  for (const p of (env.KUBECONFIG ?? '').split(':').filter(Boolean)) if (existsSync(p)) return p;
  const home = resolve(homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/**
 * Resolves the current context (or `context`) of a kubeconfig: server, CA, and a token or client
 * certificate (inline, from files next to the kubeconfig, or from an exec plugin such as
 * `aws eks get-token`). Unsupported auth is an error that says what to use instead.
 */
export async function loadKubeconfig(
  file: string,
  context?: string,
  namespace?: string,
): Promise<KubeConnection> {
  let doc: Kubeconfig;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Kubeconfig;
  } catch (e) {
    throw new UserError(
      `The kubeconfig at ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const ctxName = context ?? doc['current-context'];
  const names = (xs?: Named<unknown>[]) => (xs ?? []).map((x) => x.name).join(', ') || 'none';
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx)
    throw new UserError(
      `The kubeconfig at ${file} has no context \`${ctxName ?? ''}\` (contexts: ${names(doc.contexts)}). Set \`context\` or the kubeconfig's current-context.`,
    );
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server)
    throw new UserError(
      `The kubeconfig's context \`${ctxName}\` names cluster \`${ctx.cluster}\`, which has no server.`,
    );
  const base = dirname(file);
  const bytes = (data: unknown, path: unknown): Buffer | undefined =>
    typeof data === 'string'
      ? Buffer.from(data, 'base64')
      : typeof path === 'string'
        ? readFileSync(resolve(base, path))
        : undefined;
  const conn: KubeConnection = {
    server: String(cluster.server).replace(/\/$/, ''),
    ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    cert: bytes(user['client-certificate-data'], user['client-certificate']),
    key: bytes(user['client-key-data'], user['client-key']),
    token:
      typeof user.token === 'string'
        ? user.token
        : typeof user.tokenFile === 'string'
          ? readFileSync(resolve(base, user.tokenFile), 'utf8').trim()
          : undefined,
    namespace: namespace ?? ctx.namespace ?? 'default',
    context: ctxName!,
    proxyUrl: typeof cluster['proxy-url'] === 'string' ? cluster['proxy-url'] : undefined,
    source: file,
  };
  if (user.exec) conn.token = await execCredential(user.exec as ExecConfig);
  else if (user['auth-provider'])
    throw new UserError(
      `The kubeconfig's user \`${ctx.user}\` uses an auth-provider, which current Kubernetes clients no longer support. Use a token, a client certificate or an exec plugin.`,
    );
  if (conn.token) log.mask(conn.token);
  // A proxy-url may carry `user:password@`: masked, and never shown (errors print it without).
  const proxyAuth = conn.proxyUrl ? URL.parse(conn.proxyUrl) : undefined;
  if (proxyAuth?.password) {
    log.mask(proxyAuth.password);
    log.mask(decodeURIComponent(proxyAuth.password));
  }
  if (conn.key) log.mask(conn.key.toString('utf8'));
  if (conn.insecure)
    log.warning(
      `The kubeconfig's cluster \`${ctx.cluster}\` sets insecure-skip-tls-verify: the API server at ${conn.server} is not authenticated, so anyone on the path can read the token and the manifests. Give the cluster's certificate-authority(-data) instead.`,
    );
  return conn;
}

interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
}

/** Runs the kubeconfig's exec plugin (argument array, no shell) and takes the token of its ExecCredential. */
async function execCredential(exec: ExecConfig): Promise<string> {
  const env: Record<string, string> = {};
  // The plugin's env often carries a secret (a cloud key); its args may too (`--token=...`). Env
  // values are masked, and the plugin is named by its command only, never with its arguments.
  for (const e of exec.env ?? []) {
    env[e.name] = e.value;
    if (typeof e.value === 'string' && e.value.length >= 6) log.mask(e.value);
  }
  const args = exec.args ?? [];
  const shown = `${exec.command}${args.length ? ` (${args.length} argument${args.length === 1 ? '' : 's'})` : ''}`;
  const r = await runCommand(exec.command, args, { env, timeoutMs: 60_000, check: false }).catch(() => {
    throw new UserError(
      `The kubeconfig's exec plugin \`${shown}\` could not be run: \`${exec.command}\` is not on PATH. Install it on the runner, or give the kubeconfig a token.`,
    );
  });
  if (r.code !== 0)
    throw new UserError(`The kubeconfig's exec plugin \`${shown}\` failed: ${(r.stderr || r.stdout).trim()}`);
  try {
    const token = (JSON.parse(r.stdout) as { status?: { token?: string } }).status?.token;
    if (token) return token;
  } catch {
    // fall through
  }
  throw new UserError(
    `The kubeconfig's exec plugin \`${shown}\` did not print an ExecCredential with status.token.`,
  );
}

/** One resource of an API group's discovery document. */
interface Discovered {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface KubeStatus {
  status: number;
  body: Record<string, unknown>;
}

/** An API answer that was not 2xx, with the API server's own message. */
export class KubeError extends UserError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const KUBE_ATTEMPTS = 4;
const CONNECTION_LOST = new Set(['EPIPE', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * What real clients (client-go, Node's own guidance on keep-alive) send again: a request written to a
 * kept-alive socket the server had just closed never reached it, whatever its method; an idempotent
 * request (GET, PUT, DELETE, a server-side apply) may be sent again after any lost connection.
 */
function retryable(
  method: string,
  contentType: string | undefined,
  e: { code?: string; reusedSocket?: boolean },
) {
  if (!e.code || !CONNECTION_LOST.has(e.code)) return false;
  if (e.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return true;
  return ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method) || contentType === 'application/apply-patch+yaml';
}

/** A small Kubernetes REST client: JSON, server-side apply with a field manager, errors that say what to fix. */
export class KubeClient {
  private tunnelAgent?: Agent;

  constructor(readonly conn: KubeConnection) {}

  /**
   * The agent for the API server: a CONNECT tunnel through the kubeconfig's proxy-url, or through
   * HTTPS_PROXY as @actions/http-client reads it (NO_PROXY and loopback bypass it), carrying the
   * cluster's CA and client certificate into the TLS session inside; undefined for a direct connection.
   */
  private agent(url: URL): Agent | undefined {
    const proxy = this.conn.proxyUrl ?? proxyFor(url.toString());
    if (!proxy) return undefined;
    if (this.tunnelAgent) return this.tunnelAgent;
    const p = URL.parse(proxy);
    if (!p || !/^https?:$/.test(p.protocol))
      throw new UserError(
        `The kubeconfig's cluster for context \`${this.conn.context}\` has proxy-url \`${withoutCredentials(proxy)}\`; go-ship supports http:// and https:// proxies (not socks5).`,
      );
    const proxyOpts = {
      host: p.hostname,
      port: Number(p.port) || (p.protocol === 'https:' ? 443 : 80),
      ...(p.username
        ? { proxyAuth: `${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}` }
        : {}),
    };
    const tls = {
      ca: this.conn.ca,
      cert: this.conn.cert,
      key: this.conn.key,
      rejectUnauthorized: !this.conn.insecure,
    };
    // tunnel's four agents: <what goes inside>Over<how the proxy is reached>.
    const make = {
      'http:': { 'http:': tunnel.httpOverHttp, 'https:': tunnel.httpsOverHttp },
      'https:': { 'http:': tunnel.httpOverHttps, 'https:': tunnel.httpsOverHttps },
    }[p.protocol as 'http:' | 'https:'][url.protocol === 'https:' ? 'https:' : 'http:'];
    this.tunnelAgent = make({ proxy: proxyOpts, ...tls } as tunnel.HttpsOverHttpOptions) as Agent;
    return this.tunnelAgent;
  }

  async request(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; allow404?: boolean; verb?: string } = {},
  ): Promise<KubeStatus> {
    const url = new URL(this.conn.server + path);
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'go-ship-deploy' };
    if (data) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(data));
    }
    if (this.conn.token) headers.Authorization = `Bearer ${this.conn.token}`;
    const send = url.protocol === 'https:' ? request : httpRequest;
    const once = () =>
      new Promise<KubeStatus>((resolvePromise, reject) => {
        const req = send(
          url,
          {
            method,
            headers,
            ca: this.conn.ca,
            cert: this.conn.cert,
            key: this.conn.key,
            rejectUnauthorized: !this.conn.insecure,
            agent: this.agent(url),
            timeout: 30_000,
          },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (b: Buffer) => chunks.push(b));
            r.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let body: Record<string, unknown> = {};
              try {
                body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
              } catch {
                body = { message: text.slice(0, 300) };
              }
              resolvePromise({ status: r.statusCode ?? 0, body });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('no answer in 30s')));
        req.on('error', (e: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
          e.reusedSocket = req.reusedSocket;
          reject(e);
        });
        if (data) req.write(data);
        req.end();
      });
    let res: KubeStatus | undefined;
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await once();
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
        if (attempt < KUBE_ATTEMPTS && retryable(method, opts.contentType, e)) {
          await new Promise((r) => setTimeout(r, 200 * attempt));
          continue;
        }
        throw new UserError(
          `Cannot reach the Kubernetes API server at ${this.conn.server} (${e.code ?? e.message}${attempt > 1 ? `, after ${attempt} attempts` : ''}) for ${method} ${path.split('?')[0]}, context \`${this.conn.context}\` from ${this.conn.source}. Check the kubeconfig's server address and that the runner can reach it.`,
          { cause: e },
        );
      }
    }
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status === 404 && opts.allow404) return res;
    const message = String(res.body.message ?? `HTTP ${res.status}`);
    const reason = String(res.body.reason ?? res.status);
    if (res.status === 401)
      throw new KubeError(
        401,
        reason,
        `The Kubernetes API server at ${this.conn.server} rejected the credentials of context \`${this.conn.context}\` (401 Unauthorized). The token or client certificate is wrong or expired.`,
      );
    if (res.status === 403)
      throw new KubeError(
        403,
        reason,
        `Kubernetes RBAC refused ${opts.verb ?? method} ${path.split('?')[0]}: ${message}. go-ship needs get, create, patch and delete on deployments (apps), services and leases (coordination.k8s.io) in namespace ${this.conn.namespace}; deploy-bluegreen/README.md has a Role to bind.`,
      );
    throw new KubeError(
      res.status,
      reason,
      `${method} ${path.split('?')[0]} failed (${res.status} ${reason}): ${message}`,
    );
  }

  async get(path: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.request('GET', path, { allow404: true, verb: 'get' });
    return r.status === 404 ? undefined : r.body;
  }

  /**
   * The REST path of an object, from the API server's discovery of its apiVersion (resource name, and
   * whether it is namespaced): what `kubectl apply` finds the same way, for any kind the cluster serves.
   */
  async pathOf(obj: Record<string, unknown>, namespace: string): Promise<string> {
    const apiVersion = String(obj.apiVersion ?? '');
    const kind = String(obj.kind ?? '');
    const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
    const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
    let resources = this.discovered.get(base);
    if (!resources) {
      const r = await this.request('GET', base, { allow404: true, verb: 'discover' });
      resources = r.status === 404 ? [] : ((r.body.resources ?? []) as Discovered[]);
      this.discovered.set(base, resources);
    }
    const res = resources.find((x) => x.kind === kind && !x.name.includes('/'));
    if (!res)
      throw new UserError(
        `The cluster at ${this.conn.server} does not serve ${kind} in ${apiVersion || '(no apiVersion)'}${meta.name ? ` (object ${meta.name})` : ''}. Install its CustomResourceDefinition first, or drop it from the chart.`,
      );
    if (!meta.name) throw new UserError(`A ${kind} in ${apiVersion} has no metadata.name.`);
    const ns = res.namespaced ? `/namespaces/${meta.namespace ?? namespace}` : '';
    return `${base}${ns}/${res.name}/${meta.name}`;
  }

  private readonly discovered = new Map<string, Discovered[]>();

  /** Server-side apply: go-ship owns the fields it sets, under its own field manager. */
  async apply(path: string, obj: unknown, dryRun = false): Promise<Record<string, unknown>> {
    const q = `?fieldManager=go-ship&force=true${dryRun ? '&dryRun=All' : ''}`;
    return (
      await this.request('PATCH', path + q, {
        body: obj,
        contentType: 'application/apply-patch+yaml',
        verb: dryRun ? 'patch (dry run)' : 'patch',
      })
    ).body;
  }
}
