// One HTTP request with node:http, answered with the status, the headers and the body bytes exactly
// as they travelled (fetch() would undo a gzip and drop the evidence), and a way to run a
// documentation's curl line as written against a server.
import { execFile } from 'node:child_process';
import { request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Runs a shell command line (a documentation's curl example) with the given variables; resolves with its stdout. */
export function runShell(line: string, vars: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', line], { env: { ...process.env, ...vars }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${line}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
