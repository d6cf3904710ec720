import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { LOCAL_CREDENTIALS } from '../../services/credentials.ts';

/** SHA-256 and HMAC-SHA256 from node:crypto, in the shape the SDK's signer takes. */
export class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {}
}

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

export interface SignedRequest {
  method: string;
  /** `host:port` as the client sent it. */
  host: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([\w-]+)\/([\w-]+)\/aws4_request, ?SignedHeaders=([\w;-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Whether a request carries a valid SigV4 signature for `service` by the local credentials: the signature is
 * computed again, with the SDK's own signer, over the headers the caller says it signed.
 */
export async function signedByLocalCaller(
  request: SignedRequest,
  region: string,
  service: string,
): Promise<boolean> {
  const lower = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const parsed = AUTHORIZATION.exec(lower.authorization ?? '');
  const date = lower['x-amz-date'];
  if (!parsed || !date || !/^\d{8}T\d{6}Z$/.test(date)) return false;
  const [, accessKeyId, day, scopeRegion, scopeService, signedHeaders, signature] = parsed;
  if (accessKeyId !== LOCAL_CREDENTIALS.accessKeyId || scopeRegion !== region || scopeService !== service)
    return false;
  if (day !== date.slice(0, 8)) return false;
  const names = String(signedHeaders).split(';');
  if (!names.includes('host')) return false;
  const [hostname = '', port] = request.host.split(':');
  const signer = new SignatureV4({ credentials: LOCAL_CREDENTIALS, region, service, sha256: NodeSha256 });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path: request.path,
      query: Object.fromEntries(request.query),
      headers: Object.fromEntries(names.map((name) => [name, lower[name] ?? ''])),
      body: request.body.length > 0 ? request.body : undefined,
    },
    {
      signingDate: new Date(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
      ),
    },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  return expected === signature;
}
