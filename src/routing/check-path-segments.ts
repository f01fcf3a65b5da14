import { GatewayError } from '../forward/gateway-errors.js'

/**
 * A `.` or `..` segment (`%2e` counting as `.`) between two of anything a
 * backend might treat as a separator: `/`, its encoded form `%2F`, and `\`
 * raw or as `%5C` (Windows-style servers and many static-file handlers read
 * it as `/`). One regex test, no split: this runs on every request.
 */
const DOT_SEGMENT = /(?:^|\/|\\|%2f|%5c)(?:\.|%2e){1,2}(?=$|\/|\\|%2f|%5c)/i

/**
 * Refuses a raw path in which a `.` or `..` segment appears under the
 * loosest reading a backend could apply (issue #10, defect 5):
 * `/svc/ui/..%2Fx` reads as `/svc/ui/../x` to a backend that decodes before
 * it normalises (aiohttp did), so it is a 400; nginx and Envoy never pass a
 * `..` on either. The path is not rewritten: one that passes (`/a%20b/c%2Fd`)
 * is forwarded byte for byte.
 */
export function checkPathSegments (rawPath: string): void {
  if (DOT_SEGMENT.test(rawPath)) {
    throw new GatewayError('bad_request', { message: 'The path must not contain "." or ".." segments.' })
  }
}
