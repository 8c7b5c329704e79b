import { GitHubApiError, GitHubClient } from '../../src/github/rest.js';
import { quietly } from '../helpers/quiet.js';
import { startServer } from '../helpers/server.js';

/** The REST client is Octokit with GitHub's retry and throttling plugins, behind go-ship's own rules. */
describe('GitHubClient (Octokit with retry and throttling)', () => {
  test('a secondary rate limit is waited out as GitHub asks (Retry-After), then the call succeeds', async () => {
    let calls = 0;
    const api = await startServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(403, { 'content-type': 'application/json', 'retry-after': '1' });
        return void res.end(
          JSON.stringify({ message: 'You have exceeded a secondary rate limit. Please wait.' }),
        );
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
    try {
      const started = Date.now();
      const { data } = await quietly(() =>
        new GitHubClient('tok', api.url).request<{ ok: boolean }>('GET', '/repos/o/r'),
      );
      expect(data.ok).toBe(true);
      expect(calls).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await api.close();
    }
  }, 30_000);

  test("a 502 is retried; a 404 is not, and keeps GitHub's message", async () => {
    const seen: string[] = [];
    const api = await startServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/flaky' && seen.filter((s) => s === '/flaky').length === 1)
        return void res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      if (req.url === '/missing')
        return void res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'Not Found' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    try {
      const client = await quietly(async () => new GitHubClient('tok', api.url)); // masks the token on stdout
      await quietly(() => client.request('GET', '/flaky'));
      expect(seen.filter((s) => s === '/flaky')).toHaveLength(2);
      const err = await quietly(() => client.request('GET', '/missing')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitHubApiError);
      expect((err as GitHubApiError).status).toBe(404);
      expect((err as GitHubApiError).message).toBe('GET /missing answered 404: Not Found');
      expect(seen.filter((s) => s === '/missing')).toHaveLength(1);
    } finally {
      await api.close();
    }
  }, 30_000);

  test('paging follows Link only on the API host: a next page elsewhere never gets the token', async () => {
    const elsewhere: (string | undefined)[] = [];
    const other = await startServer((req, res) => {
      elsewhere.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('[3]');
    });
    const api = await startServer((req, res) => {
      const page = new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1';
      const next =
        page === '1'
          ? `<${api.url}/items?per_page=100&page=2>; rel="next"`
          : `<${other.url.replace('127.0.0.1', 'localhost')}/items?page=3>; rel="next"`;
      res
        .writeHead(200, { 'content-type': 'application/json', link: next })
        .end(JSON.stringify([Number(page)]));
    });
    try {
      const out: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
      let items: number[];
      try {
        items = await new GitHubClient('tok', api.url).paginate<number>('/items');
      } finally {
        process.stdout.write = write;
      }
      expect(items).toEqual([1, 2]);
      expect(elsewhere).toEqual([]);
      expect(out.join('')).toMatch(
        /::warning::GET \/items: the next page's link leaves 127\.0\.0\.1:\d+; stopped at 2 items\./,
      );
    } finally {
      await api.close();
      await other.close();
    }
  }, 30_000);
});
