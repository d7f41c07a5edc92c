// The cipher work, all of it done by Node's crypto (OpenSSL, AES-NI where the CPU has it): the
// JavaScript side only decides which bytes go in. Creating an OpenSSL context costs several times
// more than encrypting a frame, so each writer keeps one context per segment and track.
import { createCipheriv, type Cipher } from 'node:crypto';
import { releaseOutput, type MediaBody } from '../body.js';

const BLOCK = 16;
/**
 * Whole-segment CBC runs over pieces of this size: OpenSSL's output for each stays in the CPU
 * cache, and a small buffer is cheaper to allocate than one the size of a segment (measured ~20%
 * faster than one call per segment).
 */
export const PIECE = 64 << 10;

/** Bytes of a whole body encrypted with PKCS7 padding: always at least one byte of padding. */
export const pkcs7Length = (n: number): number => (Math.floor(n / BLOCK) + 1) * BLOCK;

/**
 * HLS AES-128: the whole body as AES-128-CBC with PKCS7 padding. The length is known from the
 * clear body's. CBC makes each block depend on every block before it, so a range is encrypted
 * from the first byte up to the end of the range's last block (a player asks whole segments; a
 * Range request pays for the bytes before it, never for those after).
 */
export function aes128Body(clear: MediaBody, key: Uint8Array, iv: Uint8Array): MediaBody {
  const length = pkcs7Length(clear.length);
  return {
    length,
    contentType: clear.contentType,
    async *produce(source, start, endInclusive) {
      // clear bytes needed: up to the end of the block holding endInclusive (the padding block is in none)
      const clearEnd = Math.min(clear.length, (Math.floor(endInclusive / BLOCK) + 1) * BLOCK);
      const cipher = createCipheriv('aes-128-cbc', key, iv);
      let at = 0; // ciphertext bytes made so far
      const slice = (enc: Buffer): Buffer | null => {
        const from = Math.max(start, at);
        const to = Math.min(endInclusive + 1, at + enc.length);
        at += enc.length;
        if (from >= to) return null;
        return from - (at - enc.length) === 0 && to === at ? enc : enc.subarray(from - (at - enc.length), to - (at - enc.length));
      };
      if (clearEnd > 0) {
        for await (const chunk of clear.produce(source, 0, clearEnd - 1)) {
          for (let o = 0; o < chunk.length; o += PIECE) {
            const s = slice(cipher.update(chunk.subarray(o, o + PIECE)));
            if (s) yield s;
          }
          releaseOutput(chunk);
        }
      }
      if (clearEnd === clear.length) {
        const s = slice(cipher.final());
        if (s) yield s;
      }
    },
  };
}

/**
 * AES-128-CBC chains that each start again from the same IV (SAMPLE-AES restarts at every NAL
 * unit and audio frame, cbcs at every subsample), through one OpenSSL context: the first block of
 * each new chain is XORed with (IV xor the previous chain's last ciphertext block), which undoes
 * the chaining OpenSSL would apply and puts the IV in its place.
 */
export class CbcRestarts {
  private readonly cipher: Cipher;
  private readonly iv: Buffer;
  private readonly last = Buffer.alloc(BLOCK);
  private started = false;

  constructor(key: Uint8Array, iv: Uint8Array) {
    this.iv = Buffer.from(iv);
    this.cipher = createCipheriv('aes-128-cbc', key, this.iv);
    this.cipher.setAutoPadding(false);
  }

  /**
   * Encrypts `data` (whole blocks) as one chain from the IV and returns the ciphertext (a new
   * buffer). The first block of `data` is changed: pass bytes about to be overwritten anyway.
   */
  chain(data: Buffer): Buffer {
    if (data.length === 0) return data;
    if (this.started) for (let i = 0; i < BLOCK; i++) data[i] ^= this.iv[i] ^ this.last[i];
    const out = this.cipher.update(data);
    out.copy(this.last, 0, out.length - BLOCK);
    this.started = true;
    return out;
  }
}
