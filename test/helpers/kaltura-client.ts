// The official Node client library (kaltura-client) on a test server, with a session of the sample
// partner 309 (its admin secret is the sample library's, a contract), quiet: the client logs every
// request with its KS, which must stay out of test output.
import { createRequire } from 'node:module';

export const kaltura = createRequire(import.meta.url)('kaltura-client');

type Request = { execute(client: unknown): Promise<any> };

export interface SampleClient {
  client: any;
  /** The session's KS. */
  ks: string;
  /** The request's result; an API exception rejects. */
  call(req: Request): Promise<any>;
  /** The API exception a request answers ({ code, message }), or null when it succeeds. */
  refusal(req: Request): Promise<{ code: string; message: string } | null>;
}

/** A client of `serviceUrl` with an ADMIN session of partner 309 for `userId`. */
export async function sampleAdminClient(serviceUrl: string, userId = 'editor'): Promise<SampleClient> {
  const cfg = new kaltura.Configuration();
  cfg.serviceUrl = serviceUrl;
  cfg.setLogger({ log() {}, error() {}, debug() {} });
  const client = new kaltura.Client(cfg);
  const ks: string = await kaltura.services.session.start('sample-admin-secret-309', userId, kaltura.enums.SessionType.ADMIN, 309).execute(client);
  client.setKs(ks);
  return {
    client,
    ks,
    call: (req) => req.execute(client),
    refusal: (req) => req.execute(client).then(() => null, (e: { code: string; message: string }) => e),
  };
}
