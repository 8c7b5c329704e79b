import { createReadStream, statSync } from 'node:fs';
import { request } from '../runner/http.js';

/**
 * The Actions "results" service that backs the cache (v2) and artifacts (v4): Twirp JSON calls to
 * ACTIONS_RESULTS_URL with the job's ACTIONS_RUNTIME_TOKEN, and bodies moved with plain HTTP to the
 * signed blob URLs it returns. Field names are the proto names, as @actions/cache and
 * @actions/artifact send them.
 */
export class ResultsService {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call(service: string, method: string, body: object): Promise<Record<string, unknown>> {
    const url = new URL(
      `twirp/${service}/${method}`,
      this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`,
    );
    // Twirp calls are safe to repeat (creating an entry that exists answers 409), so they are retried.
    const res = await request(url.toString(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.token}` },
      body: JSON.stringify(body),
      timeoutMs: 60_000,
      attempts: 4,
    });
    const text = await res.text();
    if (!res.ok) {
      let msg = text.slice(0, 300);
      try {
        msg = (JSON.parse(text) as { msg?: string }).msg ?? msg;
      } catch {
        // not a Twirp error body; keep the text
      }
      throw new ResultsServiceError(method, res.status, msg);
    }
    return JSON.parse(text) as Record<string, unknown>;
  }
}

export class ResultsServiceError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    detail: string,
  ) {
    super(`${method} answered ${status}: ${detail}`);
    this.name = 'ResultsServiceError';
  }
}

/** Uploads a file or buffer to a signed blob URL as one block blob. */
export async function putBlob(url: string, body: string | Buffer, what: string): Promise<void> {
  const size = typeof body === 'string' ? statSync(body).size : body.length;
  const res = await request(url, {
    method: 'PUT',
    headers: {
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-version': '2020-10-02',
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size),
    },
    body: typeof body === 'string' ? () => createReadStream(body) : body,
    timeoutMs: 5 * 60_000,
  });
  if (!res.ok)
    throw new Error(`uploading ${what} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}
