import { GatewayError } from '../forward/gateway-errors.js'
import { checkPathSegments } from './check-path-segments.js'

/** The request target split for matching; the path itself is never re-encoded. */
export interface RequestTarget {
  /** The path exactly as received (origin-form, RFC 9112 §3.2.1). */
  readonly rawPath: string
  /** `?query` exactly as received, or ''. */
  readonly query: string
  /** Raw segments of rawPath; `/a/b/` gives ['a', 'b', '']. */
  readonly segments: readonly string[]
  /** Offset in rawPath where each segment ends. */
  readonly segmentEnds: readonly number[]
}

/** A `%` not followed by two hex digits (RFC 3986 §2.1). */
const BAD_ESCAPE = /%(?![0-9a-f]{2})/i

function badPath (message: string): GatewayError {
  return new GatewayError('bad_request', { message })
}

/** RFC 9112 §3.2.2: a server must accept absolute-form; only its path is routed here. */
function stripAbsoluteForm (target: string): string {
  if (target.charCodeAt(0) === 47 /* / */) return target
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target)
  if (match === null) throw badPath('The request target must be an absolute path.')
  const rest = target.slice(match[0].length)
  return rest === '' || rest.charCodeAt(0) === 63 /* ? */ ? '/' + rest : rest
}

/**
 * Splits and checks a request target. Dot-segments are refused outright rather
 * than resolved (RFC 3986 §5.2.4), in raw or percent-encoded form and between
 * encoded separators too (check-path-segments.ts), because a backend that
 * resolves them differently from us is a path-confusion hole.
 */
export function parseRequestTarget (target: string): RequestTarget {
  const origin = stripAbsoluteForm(target)
  const q = origin.indexOf('?')
  const rawPath = q === -1 ? origin : origin.slice(0, q)
  const query = q === -1 ? '' : origin.slice(q)
  // As nginx does; checked here so that HTTP and WebSocket refuse alike.
  if (BAD_ESCAPE.test(rawPath)) throw badPath('The path contains a malformed percent-escape.')
  checkPathSegments(rawPath)
  const segments: string[] = []
  const segmentEnds: number[] = []
  let start = 1
  for (let i = 1; i <= rawPath.length; i++) {
    if (i === rawPath.length || rawPath.charCodeAt(i) === 47) {
      segments.push(rawPath.slice(start, i))
      segmentEnds.push(i)
      start = i + 1
    }
  }
  return { rawPath, query, segments, segmentEnds }
}

/**
 * Decodes a segment that names a service or socket. An encoded `/`, `\` or
 * NUL there could only serve to smuggle a path past the matcher, so it is a
 * 400, as is a malformed escape.
 */
export function decodeNameSegment (segment: string): string {
  if (segment.indexOf('%') === -1 && segment.indexOf('\\') === -1) return segment
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    throw badPath('The path contains a malformed percent-escape.')
  }
  if (/[/\\\0]/.test(decoded)) throw badPath('A service or socket name must not contain "/", "\\" or NUL.')
  return decoded
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i

/**
 * RFC 9112 §3.2.2: with an absolute-form target, the server ignores Host and
 * uses the target's authority. Rewriting the parsed header once, before the
 * Host check and before X-Forwarded-Host is built, keeps every later step
 * consistent for HTTP and WebSocket alike.
 */
export function adoptAbsoluteFormAuthority (req: { url?: string, headers: { host?: string } }): void {
  const url = req.url ?? ''
  // The usual origin-form (`/path`) has no authority to adopt.
  if (url.charCodeAt(0) === 0x2f) return
  const authority = ABSOLUTE_FORM.exec(url)?.[1]
  // Userinfo stays in, so that checkRequestHost refuses it (RFC 9110 §4.2.4, issue #10).
  if (authority !== undefined && authority !== '') req.headers.host = authority
}
