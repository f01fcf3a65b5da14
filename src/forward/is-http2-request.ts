import type { Http2ServerRequest } from 'node:http2'

/**
 * A request that came on an HTTP/2 stream (issue #13). node:http reports
 * major version 2 too for an HTTP/1 request line that says `HTTP/2.0`, which
 * is still an HTTP/1 message with no stream behind it (found by the fuzzer).
 */
export function isHttp2Request (req: { readonly httpVersionMajor: number }): req is { readonly httpVersionMajor: number } & Pick<Http2ServerRequest, 'stream'> {
  return req.httpVersionMajor === 2 && 'stream' in req
}
