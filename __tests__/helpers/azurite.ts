import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { ROOT } from './cli.js';
import { freePort, stopProcess, waitForPort } from './net.js';

/** Azurite's documented development account (public, the same in every install). */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const BIN = join(ROOT, 'node_modules', '.bin', 'azurite-blob');

export const hasAzurite = (): boolean => existsSync(BIN);

export interface BlobStorage {
  /** `http://HOST:PORT/devstoreaccount1`; HOST is `host` when given (a name the proxy resolves). */
  url: string;
  /** A signed URL for one blob, as GitHub's services hand them out (`?sv=…&sig=…`). */
  signedUrl(container: string, blob: string, permissions: string): string;
  /** The blob's bytes, read with the account key (undefined when it does not exist). */
  read(container: string, blob: string): Promise<Buffer | undefined>;
  /** Replaces the blob's bytes with the account key (what a poisoned entry looks like). */
  write(container: string, blob: string, data: Buffer): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Azure Blob Storage emulator (npm's azurite) on loopback, in memory, for the blob transfers
 * that GitHub's cache and artifact clients make to signed URLs. Path-style URLs
 * (`/devstoreaccount1/container/blob`) are used for every host name (`--disableProductStyleUrl`).
 */
export async function startAzurite(containers: string[], host = '127.0.0.1'): Promise<BlobStorage> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    BIN,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--disableProductStyleUrl',
      '--skipApiVersionCheck',
      '--silent',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(child, port, 'azurite');
  const credential = new StorageSharedKeyCredential(ACCOUNT, KEY);
  const admin = new BlobServiceClient(`http://127.0.0.1:${port}/${ACCOUNT}`, credential);
  for (const c of containers) await admin.getContainerClient(c).createIfNotExists();
  const url = `http://${host}:${port}/${ACCOUNT}`;
  return {
    url,
    signedUrl: (container, blob, permissions) => {
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container,
          blobName: blob,
          permissions: BlobSASPermissions.parse(permissions),
          expiresOn: new Date(Date.now() + 3600_000),
        },
        credential,
      ).toString();
      return `${url}/${container}/${blob.split('/').map(encodeURIComponent).join('/')}?${sas}`;
    },
    read: async (container, blob) => {
      const client = admin.getContainerClient(container).getBlobClient(blob);
      if (!(await client.exists())) return undefined;
      return client.downloadToBuffer();
    },
    write: async (container, blob, data) => {
      await admin.getContainerClient(container).getBlockBlobClient(blob).uploadData(data);
    },
    // A throwaway emulator over a temporary folder: nothing to flush, so no grace (SIGTERM waited 5 s).
    stop: () => stopProcess(child, 0),
  };
}
