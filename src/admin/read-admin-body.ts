import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../forward/gateway-errors.js'

/** A route file is a few kB; this bounds what one request can make the router hold. */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024

export type AdminBodyType = 'json' | 'yaml'

/** The media types the API reads (RFC 9512 registers application/yaml; the others are older spellings still sent). */
const BODY_TYPES: Readonly<Record<string, AdminBodyType>> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
  'text/x-yaml': 'yaml'
}

export interface AdminBody {
  readonly type: AdminBodyType
  readonly text: string
}

/** `application/json; charset=utf-8` → its type; parameters other than a UTF-8 charset are not understood. */
export function bodyTypeOf (contentType: string | undefined): AdminBodyType | null {
  if (contentType === undefined) return null
  const [essence = '', ...params] = contentType.split(';').map((s) => s.trim().toLowerCase())
  const type = BODY_TYPES[essence]
  if (type === undefined) return null
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '')
  return charset === undefined || charset === 'utf-8' || charset === 'utf8' ? type : null
}

const tooLarge = (): GatewayError => new GatewayError('payload_too_large', { message: `The request body is over ${MAX_ADMIN_BODY_BYTES} bytes.` })

/**
 * The body, up to the limit. Past it the reading stops without destroying the
 * request (a `for await` would, taking the socket and the 413 with it); the
 * 413 then closes the connection.
 */
function collect (req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= MAX_ADMIN_BODY_BYTES) {
        chunks.push(chunk)
        return
      }
      stop()
      req.pause()
      reject(tooLarge())
    }
    const onEnd = (): void => { stop(); resolve(Buffer.concat(chunks)) }
    const onError = (): void => { stop(); reject(new GatewayError('client_closed')) }
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', onError)
  })
}

/**
 * The admin API's own content-type parsers (issue #12). The public app
 * declares every method bodyless, so that the forwarder streams bodies to
 * the backend unread and no Content-Type is ever refused (issue #10); the
 * admin plugin therefore reads its few bodies itself, the same way on the
 * public app and on an `--admin-listen` listener: JSON or YAML, as text,
 * since the route-file parser wants the text for its line numbers.
 */
export async function readAdminBody (req: IncomingMessage): Promise<AdminBody> {
  const type = bodyTypeOf(req.headers['content-type'])
  if (type === null) throw new GatewayError('unsupported_media_type')
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_ADMIN_BODY_BYTES) throw tooLarge()
  const bytes = await collect(req)
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  try {
    return { type, text: text.decode(bytes) }
  } catch {
    throw new GatewayError('bad_request', { message: 'The request body is not valid UTF-8.' })
  }
}
