import t from 'tap'
import { classifyUpstreamError, GatewayError, toErrorBody } from '../../src/forward/gateway-errors.js'

const wrap = (cause: unknown): Error => new Error('wrapped', { cause })

t.test('codes map to one status each', async (t) => {
  const expected: Record<string, number> = { bad_request: 400, forbidden: 403, no_route: 404, method_not_allowed: 405, request_timeout: 408, upgrade_required: 426, headers_too_large: 431, client_closed: 499, internal_error: 500, expectation_failed: 417, not_implemented: 501, bad_gateway: 502, service_unavailable: 503, gateway_timeout: 504 }
  for (const [code, status] of Object.entries(expected)) t.equal(new GatewayError(code as GatewayError['code']).status, status, code)
})

t.test('upstream failures classify along the cause chain', async (t) => {
  t.equal(classifyUpstreamError(wrap(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).code, 'bad_gateway')
  t.equal(classifyUpstreamError(wrap(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).code, 'gateway_timeout')
  t.equal(classifyUpstreamError(Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' })).code, 'gateway_timeout')
  t.equal(classifyUpstreamError(wrap(new DOMException('gone', 'AbortError'))).code, 'client_closed')
  t.equal(classifyUpstreamError('weird').code, 'bad_gateway')
  const kept = classifyUpstreamError(wrap(new GatewayError('service_unavailable', { retryAfter: 1 })), 'svc')
  t.match(kept, { code: 'service_unavailable', retryAfter: 1, service: 'svc' })
})

t.test('the body carries code, message and service only', async (t) => {
  t.same(toErrorBody(new GatewayError('bad_gateway', { service: 's', cause: new Error('ECONNREFUSED /tmp/x.sock') })), { error: 'bad_gateway', message: 'The service refused the connection or went away.', service: 's' })
  t.same(toErrorBody(new GatewayError('no_route')), { error: 'no_route', message: 'No service is routed at this path.' })
})
