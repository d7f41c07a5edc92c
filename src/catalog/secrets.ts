// The server-wide secrets that must exist: the `kt` URL-token secret and the secret of the
// signatures on kdeliver's own protected media URLs. A value configured in the environment wins;
// otherwise the server and every command line tool read the same generated value from one store.
// Today the store is a file in the data directory; a shared catalog (PostgreSQL) can implement
// SecretStore so that every node of a cluster signs and checks with the same secrets.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectory } from '../data-dir.js';

export const SERVER_SECRET_NAMES = ['KDELIVER_URL_TOKEN_SECRET', 'KDELIVER_MEDIA_URL_SECRET'] as const;
export type ServerSecretName = (typeof SERVER_SECRET_NAMES)[number];
export type ServerSecrets = Record<ServerSecretName, string>;

export class SecretStoreError extends Error {}

export interface SecretStore {
  /** Where the secrets are kept, for messages. */
  readonly location: string;
  /**
   * The stored secrets. On first use every one is created with `generate`; processes that start
   * at the same time all end up with the values of the first that stored them.
   */
  load(generate: () => string): ServerSecrets;
}

/** 32 random bytes, base64url: what kdeliver generates when no secret is configured. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

function parse(location: string, text: string): ServerSecrets {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SecretStoreError(`${location}: not readable JSON (${(e as Error).message}); restore it, or move it away to have new secrets generated (links signed with the old ones stop working)`);
  }
  const out = {} as ServerSecrets;
  for (const name of SERVER_SECRET_NAMES) {
    const v = (data as Record<string, unknown> | null)?.[name];
    if (typeof v !== 'string' || v.length < 16) {
      throw new SecretStoreError(`${location}: ${name} missing or shorter than 16 characters; restore the file, or move it away to have new secrets generated`);
    }
    out[name] = v;
  }
  return out;
}

/**
 * `{dataDir}/secrets.json`, readable and writable by the server's user only (0600). It is written
 * once, atomically: a complete temporary file is hard-linked into place, which fails when another
 * process got there first; everyone then reads the one file that won.
 */
export function dataDirSecretStore(dataDir: string): SecretStore {
  const file = join(dataDir, 'secrets.json');
  const read = (): ServerSecrets | null => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SecretStoreError(`${file}: cannot be read (${(e as Error).message}); it must be readable by the user kdeliver runs as`);
    }
    if ((statSync(file).mode & 0o077) !== 0) {
      try {
        chmodSync(file, 0o600);
      } catch (e) {
        throw new SecretStoreError(`${file}: readable by other users and cannot be made private (${(e as Error).message}); run \`chmod 600 ${file}\``);
      }
    }
    return parse(file, text);
  };
  return {
    location: file,
    load(generate) {
      const existing = read();
      if (existing) return existing;
      makeDirectory(dataDir);
      const values = Object.fromEntries(SERVER_SECRET_NAMES.map((n) => [n, generate()])) as ServerSecrets;
      const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(values, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(tmp, file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // EEXIST: another process stored its secrets first; theirs are read below
        if (code !== 'EEXIST') {
          // a file system without hard links: rename, unless another process has stored meanwhile
          if (!read()) renameSync(tmp, file);
        }
      } finally {
        try { unlinkSync(tmp); } catch { /* renamed */ }
      }
      try {
        const dir = openSync(dataDir, 'r');
        try { fsyncSync(dir); } finally { closeSync(dir); }
      } catch { /* directories cannot be synced on every platform */ }
      const stored = read();
      if (!stored) throw new SecretStoreError(`${file}: could not be written`);
      return stored;
    },
  };
}
