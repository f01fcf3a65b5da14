/**
 * Every error a client can see from the router, with a stable code, and the
 * one place where a code becomes an HTTP status (docs/architecture.md,
 * "Errors: one place"). Messages are fixed strings: a client never sees a
 * stack, an errno or a socket path.
 */

export type GatewayErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'no_route'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'upgrade_required'
  | 'headers_too_large'
  | 'bad_gateway'
  | 'service_unavailable'
  | 'gateway_timeout'
  | 'client_closed'
  | 'internal_error'
  | 'not_implemented'
  | 'expectation_failed'
  | 'admin_read_only'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_route_file'

const STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  bad_request: 400,
  forbidden: 403,
  no_route: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  upgrade_required: 426,
  headers_too_large: 431,
  // nginx's non-standard 499: the client went away; only ever logged.
  client_closed: 499,
  internal_error: 500,
  not_implemented: 501,
  expectation_failed: 417,
  bad_gateway: 502,
  service_unavailable: 503,
  gateway_timeout: 504,
  // The admin API (issue #12).
  admin_read_only: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_route_file: 400
}

const DEFAULT_MESSAGE: Readonly<Record<GatewayErrorCode, string>> = {
  bad_request: 'The request is malformed.',
  forbidden: 'The request is not allowed.',
  no_route: 'No service is routed at this path.',
  method_not_allowed: 'This method is not supported here.',
  request_timeout: 'The request was not received in time.',
  upgrade_required: 'Only WebSocket version 13 is supported.',
  headers_too_large: 'The request headers are too large.',
  client_closed: 'The client closed the connection.',
  internal_error: 'The router failed to handle the request.',
  not_implemented: 'The router cannot forward this request faithfully.',
  expectation_failed: 'The only expectation the router understands is 100-continue.',
  bad_gateway: 'The service refused the connection or went away.',
  service_unavailable: 'The service is known but not running.',
  gateway_timeout: 'The service did not answer in time.',
  admin_read_only: 'This listener serves the admin API read-only: write through an --admin-listen listener or a unix: listener.',
  not_found: 'There is nothing by that name.',
  conflict: 'The request conflicts with how the router is configured.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'The request body must be application/json or application/yaml.',
  invalid_route_file: 'The route file is invalid; nothing was written.'
}

export interface GatewayErrorOptions {
  message?: string
  service?: string
  cause?: unknown
  /** Seconds, sent as Retry-After (RFC 9110 §10.2.3). */
  retryAfter?: number
  /** One line each, shown as `errors` in the body: a route file's `file:line: field: message` lines (issue #12). */
  details?: readonly string[]
}

export class GatewayError extends Error {
  readonly code: GatewayErrorCode
  readonly status: number
  readonly service: string | undefined
  readonly retryAfter: number | undefined
  readonly details: readonly string[] | undefined

  constructor (code: GatewayErrorCode, options: GatewayErrorOptions = {}) {
    super(options.message ?? DEFAULT_MESSAGE[code], { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.status = STATUS[code]
    this.service = options.service
    this.retryAfter = options.retryAfter
    this.details = options.details
  }
}

export interface ErrorBody {
  error: GatewayErrorCode
  message: string
  service?: string
  errors?: readonly string[]
}

export function toErrorBody (err: GatewayError): ErrorBody {
  const body: ErrorBody = { error: err.code, message: err.message }
  if (err.service !== undefined) body.service = err.service
  if (err.details !== undefined) body.errors = err.details
  return body
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_CONNECT_TIMEOUT',
  'ETIMEDOUT'
])

/** The error and its causes, outermost first: reply-from wraps undici's errors in its own. */
function causeChain (err: unknown): object[] {
  const chain: object[] = []
  for (let current = err; chain.length < 5 && current !== null && typeof current === 'object'; current = (current as { cause?: unknown }).cause) {
    chain.push(current)
  }
  return chain
}

/** The innermost error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT…), for operators' logs only. */
export function innermostCode (err: unknown): string | undefined {
  const codes = causeChain(err).map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string')
  return codes.at(-1)
}

/**
 * Classifies anything thrown while talking to a backend. Connection failures
 * are 502 and timeouts 504 (as Caddy's statusError does); an abort caused by
 * the client leaving is 499; everything else (refused, reset, missing socket,
 * a malformed response) is 502, because the gateway got no valid answer
 * (RFC 9110 §15.6.3). A GatewayError anywhere in the chain keeps its code.
 */
export function classifyUpstreamError (err: unknown, service?: string): GatewayError {
  const chain = causeChain(err)
  const known = chain.find((e): e is GatewayError => e instanceof GatewayError)
  const options = { service: known?.service ?? service, cause: err }
  if (known !== undefined) return new GatewayError(known.code, { ...options, message: known.message, retryAfter: known.retryAfter })
  const codes = chain.map((e) => (e as { code?: unknown }).code)
  if (codes.some((c) => typeof c === 'string' && TIMEOUT_CODES.has(c))) return new GatewayError('gateway_timeout', options)
  if (codes.includes('UND_ERR_ABORTED') || chain.some((e) => (e as { name?: unknown }).name === 'AbortError')) {
    return new GatewayError('client_closed', options)
  }
  return new GatewayError('bad_gateway', options)
}
