/**
 * Hand-written seeds for the mutator: the classic request-smuggling and
 * parser-confusion heads (CL.TE, TE.CL, TE.TE, obs-fold, bare LF, requests
 * after an error, 100-continue behind a pipelined GET, WebSocket handshakes
 * a backend refuses). Each carries a canary request where a desynced
 * parser would start reading.
 */
import { canaryRequest } from './grammar.js'
import type { Target } from './case-types.js'

export interface Seed {
  readonly name: string
  make (target: Target, index: number): string
}

const WS = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'

function host (t: Target): string {
  return `Host: 127.0.0.1:${t.port}\r\n`
}

function end (t: Target, i: number): string {
  return `GET /fz/b/c${i}-end HTTP/1.1\r\n${host(t)}Connection: close\r\n\r\n`
}

export const SEEDS: readonly Seed[] = [
  { name: 'cl-te', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${canaryRequest(t, i, 'clte')}${end(t, i)}` },
  { name: 'te-cl', make: (t, i) => { const c = canaryRequest(t, i, 'tecl'); return `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${c.length.toString(16)}\r\n${c}\r\n0\r\n\r\n${end(t, i)}` } },
  { name: 'te-te', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Transfer-Encoding: chunked\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${canaryRequest(t, i, 'tete')}${end(t, i)}` },
  { name: 'te-obs-fold', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Content-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${canaryRequest(t, i, 'fold')}${end(t, i)}` },
  { name: 'te-space-colon', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Content-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${canaryRequest(t, i, 'spc')}${end(t, i)}` },
  { name: 'lf-only', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\n${host(t).trim()}\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n${canaryRequest(t, i, 'lf')}${end(t, i)}` },
  { name: 'chunk-ext', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Transfer-Encoding: chunked\r\n\r\n5;a=b;c="d\\"e"\r\nhello\r\n0;z\r\n\r\n${canaryRequest(t, i, 'ext')}${end(t, i)}` },
  { name: 'chunk-overflow', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n${canaryRequest(t, i, 'ovf')}${end(t, i)}` },
  { name: 'dup-cl', make: (t, i) => `POST /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Content-Length: 0\r\nContent-Length: 46\r\n\r\n${canaryRequest(t, i, 'dupcl')}${end(t, i)}` },
  { name: 'dup-host', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Host: evil.example\r\n\r\n${end(t, i)}` },
  { name: 'host-userinfo', make: (t, i) => `GET /fz/ws/c${i}-r0 HTTP/1.1\r\nHost: 127.0.0.1:${t.port}@evil.example\r\nOrigin: http://evil.example\r\n${WS}\r\n` },
  { name: 'after-400', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n\r\n${canaryRequest(t, i, 'a400')}` },
  { name: 'after-bad-line', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}\r\nGET /x HTTP/1.1\r\n${host(t)}X Bad: 1\r\n\r\n${canaryRequest(t, i, 'abad')}` },
  { name: 'after-close', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Connection: close\r\n\r\n${canaryRequest(t, i, 'aclose')}` },
  { name: 'continue-pipelined', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}\r\nPOST /fz/b/c${i}-r1 HTTP/1.1\r\n${host(t)}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello${end(t, i)}` },
  { name: 'absolute-form', make: (t, i) => `GET http://127.0.0.1:${t.port}/fz/b/c${i}-r0 HTTP/1.1\r\nHost: evil.example\r\n\r\n${end(t, i)}` },
  { name: 'ws-refused-splice', make: (t, i) => `GET /fz/raw/c${i}-r0 HTTP/1.1\r\n${host(t)}${WS}\r\n${canaryRequest(t, i, 'wsb', 'raw')}` },
  { name: 'ws-valid', make: (t, i) => `GET /fz/ws/c${i}-r0 HTTP/1.1\r\n${host(t)}${WS}\r\n${canaryRequest(t, i, 'wsv', 'ws')}` },
  { name: 'ws-version-8', make: (t, i) => `GET /fz/ws/c${i}-r0 HTTP/1.1\r\n${host(t)}${WS.replace('13', '8')}\r\n${canaryRequest(t, i, 'wsv8', 'ws')}` },
  { name: 'ws-http10', make: (t, i) => `GET /fz/ws/c${i}-r0 HTTP/1.0\r\n${host(t)}${WS}\r\n${canaryRequest(t, i, 'ws10', 'ws')}` },
  { name: 'h2c', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n${canaryRequest(t, i, 'h2c')}` },
  { name: 'get-body', make: (t, i) => { const c = canaryRequest(t, i, 'gb'); return `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}Content-Length: ${c.length}\r\n\r\n${c}${end(t, i)}` } },
  { name: 'overlong-line', make: (t, i) => `GET /fz/b/c${i}-r0?${'a'.repeat(20000)} HTTP/1.1\r\n${host(t)}\r\n${canaryRequest(t, i, 'long')}` },
  { name: 'overlong-header', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}X-A: ${'b'.repeat(17000)}\r\n\r\n${canaryRequest(t, i, 'longh')}` },
  { name: 'nul-in-value', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}X-A: a\x00b\r\n\r\n${canaryRequest(t, i, 'nul')}` },
  { name: 'bare-cr', make: (t, i) => `GET /fz/b/c${i}-r0 HTTP/1.1\r\n${host(t)}X-A: a\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${canaryRequest(t, i, 'cr')}` }
]
