import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';

/**
 * Payload compression of a REST API as the API Gateway developer guide describes it: "Payload compression for
 * REST APIs in API Gateway" (api-gateway-gzip-compression-decompression.html) and its pages "Enable payload
 * compression" (api-gateway-enable-compression.html), "Call an API method with a compressed payload"
 * (api-gateway-make-request-with-compressed-payload.html) and "Receive an API response with a compressed
 * payload" (api-gateway-receive-response-with-compressed-payload.html). Where those pages are silent, the choice
 * made here is said beside the code and listed in the README's fidelity table.
 */

/** "API Gateway supports the following content codings: deflate, gzip, identity" (enable-compression). */
const SUPPORTED_CODINGS = ['gzip', 'deflate', 'identity'] as const;
type SupportedCoding = (typeof SUPPORTED_CODINGS)[number];
export type CompressionCoding = Exclude<SupportedCoding, 'identity'>;

/** `minimumCompressionSize` is "a non-negative integer between 0 and 10485760 (10M bytes)" (enable-compression). */
export const MAX_MINIMUM_COMPRESSION_SIZE = 10_485_760;

/**
 * One `Accept-Encoding` element as RFC 7231 §5.3.4 writes it (the grammar API Gateway cites): a coding, or `*`,
 * with an optional weight whose qvalue is 0 to 1 with at most three decimals.
 */
const ACCEPT_ELEMENT =
  /^([!#$%&'*+.^_`|~0-9a-z-]+)(?:[ \t]*;[ \t]*q[ \t]*=[ \t]*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?))?$/i;

const isSupported = (coding: string): coding is SupportedCoding =>
  (SUPPORTED_CODINGS as readonly string[]).includes(coding);

/**
 * The coding a response is compressed with, or undefined for none. Documented:
 * - no `Accept-Encoding` counts as `*`, "In such a case, API Gateway does not compress the payload", and
 *   "Without an explicit specification of supported Accept-Encoding header values, API Gateway does not compress"
 *   (receive-response): `*` never selects a coding, and an empty header accepts none;
 * - "The highest-priority content encoding must be one supported by API Gateway. If it is not, compression is not
 *   applied" (enable-compression): `br;q=1, gzip;q=0.5` is not compressed; `identity` first means uncompressed;
 * - the header formats it lists: `deflate,gzip`, an empty value, `*`, `deflate;q=0.5,gzip;q=1.0`,
 *   `gzip;q=1.0,identity;q=0.5,*;q=0`; `gzip, deflate, br` "can trigger the payload compression".
 * Undocumented, chosen here: among codings of equal top weight the first one API Gateway supports wins (`br, gzip`
 * is gzip); `q=0` refuses a coding (RFC 7231); an element that is not valid RFC 7231 (`gzip;q=2`, `;;`) is ignored.
 */
export function responseCoding(acceptEncoding: string | undefined): CompressionCoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const accepted = acceptEncoding
    .split(',')
    .flatMap((element) => {
      const [, coding, weight] = ACCEPT_ELEMENT.exec(element.trim()) ?? [];
      return coding === undefined ? [] : [{ coding: coding.toLowerCase(), weight: Number(weight ?? 1) }];
    })
    .filter(({ coding, weight }) => coding !== '*' && weight > 0);
  const topWeight = Math.max(...accepted.map(({ weight }) => weight));
  const preferred = accepted.find(
    ({ coding, weight }) => weight === topWeight && isSupported(coding),
  )?.coding;
  return preferred === 'gzip' || preferred === 'deflate' ? preferred : undefined;
}

export interface ResponsePayload {
  headers: Record<string, string>;
  body: Buffer;
  /** API Gateway's own answer (a gateway response), not an integration's. */
  gatewayResponse: boolean;
}

export interface CompressionContext {
  /** The API's `MinimumCompressionSize`; undefined when compression is off. */
  minimumCompressionSize: number | undefined;
  /** The request's `Accept-Encoding`, repeated lines joined with commas. */
  acceptEncoding: string | undefined;
}

/**
 * The payload as API Gateway sends it. "API Gateway only compresses the response payload when": the request
 * accepts a supported coding (responseCoding), `minimumCompressionSize` is set, "The integration response doesn't
 * have a Content-Encoding header" (then it "assumes that the integration response payload is already compressed":
 * a Lambda proxy answer that set one is sent as it is), and the payload "after the applicable mapping template is
 * applied, is greater than or equal to" the minimum, counted uncompressed (receive-response). The answer carries
 * `Content-Encoding` with the coding; its length is the compressed one ("only the compressed data size is billed").
 * Undocumented, chosen here: gateway responses (the conditions speak of integration responses only) and empty
 * bodies are never compressed, and no `Vary` header is added (the pages name none); `deflate` is the zlib format
 * RFC 9110 §8.4.1.2 defines. A streamed response never comes here: with `responseTransferMode: STREAM` API Gateway
 * does not support "Content encoding. If you want to compress the integration response, do it in your integration"
 * (response-transfer-mode.html).
 */
export function compressResponse(
  payload: ResponsePayload,
  context: CompressionContext,
): { headers: Record<string, string>; body: Buffer } {
  const { headers, body } = payload;
  const coding = responseCoding(context.acceptEncoding);
  const minimum = context.minimumCompressionSize;
  if (
    minimum === undefined ||
    coding === undefined ||
    payload.gatewayResponse ||
    body.length === 0 ||
    body.length < minimum ||
    Object.keys(headers).some((name) => name.toLowerCase() === 'content-encoding')
  ) {
    return { headers, body };
  }
  return {
    headers: { ...headers, 'content-encoding': coding },
    body: coding === 'gzip' ? gzipSync(body) : deflateSync(body),
  };
}

export type DecodedRequestBody = { body: Buffer } | { refused: 'UNSUPPORTED_MEDIA_TYPE' | 'TOO_LARGE' };

/**
 * A request body with its `Content-Encoding` undone, before validation, mapping templates and the integration:
 * "API Gateway supports decompression of the method request payload" by default; it "verifies if the specified
 * content coding is supported. Then, it attempts to decompress the payload … If the specified coding isn't
 * supported or the supplied payload isn't compressed with specified coding, API Gateway returns the 415
 * Unsupported Media Type error response" (make-request; gzip-compression-decompression). That happens "in the early
 * phase … before your API and stage are identified", so offline it comes before routing and API keys.
 * Undocumented, chosen here: one coding only (`gzip, deflate` is 415); `deflate` is the zlib format; an empty body
 * stays empty; the decompressed body is held to the payload limit (`TOO_LARGE`), so a small bomb cannot fill
 * memory. The enable-compression page also says that below `minimumCompressionSize` "compression or decompression
 * are not applied"; the request pages set no such condition, so every body is decompressed (README: fidelity).
 */
export function decodeRequestBody(
  body: Buffer,
  contentEncoding: string | undefined,
  limit: number,
): DecodedRequestBody {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return { body };
  if (coding !== 'gzip' && coding !== 'deflate') return { refused: 'UNSUPPORTED_MEDIA_TYPE' };
  if (body.length === 0) return { body };
  try {
    return { body: (coding === 'gzip' ? gunzipSync : inflateSync)(body, { maxOutputLength: limit }) };
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    return { refused: tooLarge ? 'TOO_LARGE' : 'UNSUPPORTED_MEDIA_TYPE' };
  }
}
