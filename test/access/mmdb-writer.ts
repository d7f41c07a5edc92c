// A minimal MaxMind DB writer for tests: an IPv6 tree (IPv4 networks under ::/96, as MaxMind
// lays them out), 24-bit records, and a data section of maps, strings and unsigned integers.
// Written from the published MaxMind DB format specification.
import { parseIp } from '../../src/access/ip.js';

type Value = string | number | Value[] | { [k: string]: Value };

function ctrl(type: number, size: number): Buffer {
  if (size >= 29) throw new Error('sizes >= 29 are not needed here');
  return type <= 7 ? Buffer.from([(type << 5) | size]) : Buffer.from([size, type - 7]);
}

function uint(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

export function encode(v: Value): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof v === 'number') {
    const b = uint(v);
    return Buffer.concat([ctrl(v <= 0xffff ? 5 : 6, b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map(encode)]);
  const entries = Object.entries(v);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

interface TrieNode { child: [TrieNode | number | null, TrieNode | number | null] }

/** networks: CIDR text (IPv4 or IPv6) → record. */
export function writeMmdb(networks: Record<string, Value>): Buffer {
  const root: TrieNode = { child: [null, null] };
  const data: Buffer[] = [];
  let dataLen = 0;
  for (const [cidr, record] of Object.entries(networks)) {
    const [addr, len] = cidr.split('/');
    const ip = parseIp(addr)!;
    const prefix = ip.v === 4 ? 96 + Number(len) : Number(len);
    const full = ip.v === 4 ? ip.n : ip.n; // v4 sits at ::a.b.c.d
    const off = dataLen;
    const enc = encode(record);
    data.push(enc);
    dataLen += enc.length;
    let node = root;
    for (let i = 0; i < prefix; i++) {
      const bit = Number((full >> BigInt(127 - i)) & 1n);
      if (i === prefix - 1) node.child[bit] = -1 - off; // data marker
      else {
        let next = node.child[bit];
        if (typeof next !== 'object' || next === null) node.child[bit] = next = { child: [null, null] };
        node = next;
      }
    }
  }
  // number the nodes breadth first
  const nodes: TrieNode[] = [];
  const queue = [root];
  while (queue.length) {
    const n = queue.shift()!;
    nodes.push(n);
    for (const c of n.child) if (c && typeof c === 'object') queue.push(c);
  }
  const count = nodes.length;
  const index = new Map(nodes.map((n, i) => [n, i]));
  const rec = (c: TrieNode | number | null): number =>
    c === null ? count : typeof c === 'object' ? index.get(c)! : count + 16 + (-1 - c);
  const tree = Buffer.alloc(count * 6);
  nodes.forEach((n, i) => {
    tree.writeUIntBE(rec(n.child[0]), i * 6, 3);
    tree.writeUIntBE(rec(n.child[1]), i * 6 + 3, 3);
  });
  const meta = encode({
    binary_format_major_version: 2, binary_format_minor_version: 0, build_epoch: 1700000000,
    database_type: 'Test-Country', description: { en: 'kdeliver test database' }, ip_version: 6,
    languages: ['en'], node_count: count, record_size: 24,
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from('ABCDEF4D61784D696E642E636F6D', 'hex'), meta]);
}
