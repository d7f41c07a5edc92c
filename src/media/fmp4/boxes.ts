// Small ISO-BMFF box builders over Buffers. Boxes are built bottom-up: children first, then the
// parent with its size.

export const box = (type: string, ...payload: Uint8Array[]): Buffer => {
  const size = 8 + payload.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload], size);
};

export const fullBox = (type: string, version: number, flags: number, ...payload: Uint8Array[]): Buffer => {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
};

export const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff, 0);
  return b;
};
export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
};
export const u64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(v / 4294967296), 0);
  b.writeUInt32BE(v >>> 0, 4);
  return b;
};
export const zeros = (n: number): Buffer => Buffer.alloc(n);
