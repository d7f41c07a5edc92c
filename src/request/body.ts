// Request bodies as Kaltura's front doors read them (api_v3 and API v2 take the body
// as bytes; routes/http.ts takeBodiesAsBytes): the parts of a multipart/form-data body, shared by
// src/api/params.ts (api_v3's and API v2's parameters).

/** A body that cannot be read: each reader answers it in its own form (api_v3 error, delivery error 25). */
export class BodyError extends Error {}

export interface BodyPart {
  name: string;
  /** Present for a file part (its Content-Disposition names a filename). */
  fileName?: string;
  contentType: string;
  /** A view into the body: copy it to keep it. */
  data: Buffer;
}

/** The named parts of a multipart/form-data body, in order (parts without a name are skipped). */
export function multipartParts(contentType: string, body: Buffer): BodyPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new BodyError('multipart body without a boundary');
  const boundary = Buffer.from(`--${(m[1] ?? m[2]).trim()}`);
  const parts: BodyPart[] = [];
  let pos = body.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(boundary, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after boundary and before the next
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const head = part.subarray(0, headEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const fileName = /filename="([^"]*)"/i.exec(head)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? 'application/octet-stream';
      if (name !== undefined) parts.push({ name, ...(fileName !== undefined ? { fileName } : {}), contentType: type, data: part.subarray(headEnd + 4) });
    }
    pos = next;
  }
  return parts;
}

