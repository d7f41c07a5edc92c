// Bytes the kernel still holds for a server's connections, unsent or unacknowledged: what a
// response handed to the socket may still have on its way after the process exits. Outside a
// container the kernel delivers them on its own; in one, the container's network is torn down as
// the process exits and they are lost, cutting off a client still reading a download that the
// server had finished writing (a `docker stop` during one). So a stopping server waits for them
// (src/cli/main.ts), within its grace. Linux only: elsewhere there is nothing to read and no wait.
import { readFile } from 'node:fs/promises';

/**
 * The bytes queued for sending (tx_queue) on TCP sockets whose local port is `port`, listening
 * ones aside, closed ones (still sending after the process let go of them) included; null where
 * /proc/net/tcp cannot be read.
 */
export async function unsentBytes(port: number): Promise<number | null> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let total = 0;
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) continue;
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue ...; state 0A is LISTEN
      if (f.length < 5 || !f[1].endsWith(`:${hexPort}`) || f[3] === '0A') continue;
      total += parseInt(f[4].split(':')[0], 16) || 0;
    }
  }
  return readable ? total : null;
}

/** Waits until no bytes are queued on the port's connections, or `deadline` (ms since epoch); true when none are left. */
export async function unsentBytesDrained(port: number, deadline: number, pollMs = 100): Promise<boolean> {
  for (;;) {
    const left = await unsentBytes(port);
    if (!left) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
