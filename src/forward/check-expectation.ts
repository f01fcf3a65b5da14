import type { IncomingMessage } from 'node:http'
import { GatewayError } from './gateway-errors.js'

/**
 * RFC 9110 §10.1.1: `100-continue` is the only expectation defined, and a
 * server MAY answer any other with 417. Node sends such requests to its
 * `checkExpectation` event and, with no listener, writes a bare 417 of its
 * own behind which pipelined requests went on to run unlogged (issue #10,
 * found by the fuzzer). listen/serve-in-order.ts hands them to the router
 * instead, and this check gives them the router's 417.
 */
export function checkExpectation (req: Pick<IncomingMessage, 'headers'>): GatewayError | null {
  const value = req.headers.expect
  if (value === undefined || value.trim().toLowerCase() === '100-continue') return null
  return new GatewayError('expectation_failed')
}
