// An ADMIN session of the sample partner 309 on a test server, with api_v3 calls (JSON, format 1)
// and upload chunks (multipart, as the client library sends uploadToken.upload) made under it.
export interface ApiSession {
  ks: string;
  /** POST /api_v3/service/{service}/action/{action} with the session's KS; the answer's JSON. */
  api(service: string, action: string, params?: Record<string, unknown>): Promise<any>;
  /** One chunk to uploadToken.upload; the flags given are sent, the others left out. */
  upload(tokenId: string, data: Buffer, o?: { resume?: boolean; resumeAt?: number; finalChunk?: boolean }): Promise<any>;
}

export async function adminApiSession(url: string, userId = 'uploader'): Promise<ApiSession> {
  const base = `${url}/api_v3/service`;
  let ks = '';
  const api = async (service: string, action: string, params: Record<string, unknown> = {}): Promise<any> => {
    const res = await fetch(`${base}/${service}/action/${action}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ks, ...params }),
    });
    return res.json();
  };
  ks = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId });
  const upload: ApiSession['upload'] = async (tokenId, data, o = {}) => {
    const form = new FormData();
    form.set('format', '1');
    form.set('ks', ks);
    form.set('uploadTokenId', tokenId);
    if (o.resume !== undefined) form.set('resume', o.resume ? '1' : '0');
    if (o.resumeAt !== undefined) form.set('resumeAt', String(o.resumeAt));
    if (o.finalChunk !== undefined) form.set('finalChunk', o.finalChunk ? '1' : '0');
    form.set('fileData', new Blob([new Uint8Array(data)]), 'chunk.bin');
    return (await fetch(`${base}/uploadToken/action/upload`, { method: 'POST', body: form })).json();
  };
  return { ks, api, upload };
}
