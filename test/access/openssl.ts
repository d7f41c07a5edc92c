// The openssl command line as an independent implementation of SHA1, MD5, AES and base64 for
// test vectors. Installed when missing and running as root; otherwise the tests fail with the
// exact command to run.
import { execFileSync } from 'node:child_process';

let checked = false;
export function ensureOpenssl(): void {
  if (checked) return;
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch {
    if (process.getuid?.() === 0) {
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq openssl'], { stdio: 'pipe' });
    } else {
      throw new Error('openssl is required by these tests: run `sudo apt-get install -y openssl`');
    }
  }
  checked = true;
}

export function openssl(args: string[], input: Buffer | string): Buffer {
  ensureOpenssl();
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Lowercase hex digest of `input` with openssl dgst. */
export function dgst(alg: 'sha1' | 'md5' | 'sha256', input: Buffer | string): string {
  const out = openssl(['dgst', `-${alg}`, '-r'], input).toString('latin1');
  return out.split(' ')[0].trim();
}

export function dgstRaw(alg: 'sha1' | 'md5' | 'sha256', input: Buffer | string): Buffer {
  return openssl(['dgst', `-${alg}`, '-binary'], input);
}

export function hmacHex(alg: 'sha1' | 'sha256', key: string, input: Buffer | string, hexKey = false): string {
  const args = ['dgst', `-${alg}`, '-r', '-mac', 'HMAC', '-macopt', hexKey ? `hexkey:${key}` : `key:${key}`];
  return openssl(args, input).toString('latin1').split(' ')[0].trim();
}

export function hmacRaw(alg: 'sha1' | 'sha256', key: string, input: Buffer | string): Buffer {
  return openssl(['dgst', `-${alg}`, '-binary', '-mac', 'HMAC', '-macopt', `key:${key}`], input);
}

export const b64 = (input: Buffer | string): string => openssl(['base64', '-A'], input).toString('latin1').trim();
export const unb64 = (text: string): Buffer => openssl(['base64', '-d', '-A'], text);

export function aes128cbc(mode: 'enc' | 'dec', keyHex: string, data: Buffer): Buffer {
  return openssl(['enc', mode === 'enc' ? '-e' : '-d', '-aes-128-cbc', '-K', keyHex, '-iv', '0'.repeat(32), '-nopad'], data);
}
