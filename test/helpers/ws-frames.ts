import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { DEADLINE_MS, withTimeout } from './wait-for.js'

export const OPCODE_TEXT = 0x1
export const OPCODE_CLOSE = 0x8

export interface Frame {
  readonly fin: boolean
  readonly opcode: number
  readonly masked: boolean
  readonly payload: Buffer
}

/** One final client frame, masked as RFC 6455 §5.3 requires of every client frame, written out by hand. */
export function maskedFrame (payload: Buffer | string, opcode = OPCODE_TEXT): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
  const mask = randomBytes(4)
  let header: Buffer
  if (data.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | data.length])
  } else if (data.length < 0x10000) {
    header = Buffer.from([0x80 | opcode, 0x80 | 126, data.length >> 8, data.length & 0xff])
  } else {
    header = Buffer.alloc(10)
    header[0] = 0x80 | opcode
    header[1] = 0x80 | 127
    header.writeBigUInt64BE(BigInt(data.length), 2)
  }
  const masked = Buffer.from(data.map((byte, i) => byte ^ (mask[i % 4] as number)))
  return Buffer.concat([header, mask, masked])
}

/** The first complete frame at the start of `buf` and its size in bytes, or null while incomplete. */
export function parseFrame (buf: Buffer): { frame: Frame, size: number } | null {
  if (buf.length < 2) return null
  const first = buf[0] as number
  const second = buf[1] as number
  let length = second & 0x7f
  let offset = 2
  if (length === 126) {
    if (buf.length < 4) return null
    length = buf.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    if (buf.length < 10) return null
    length = Number(buf.readBigUInt64BE(2))
    offset = 10
  }
  const masked = (second & 0x80) !== 0
  const mask = masked ? buf.subarray(offset, offset + 4) : null
  if (masked) offset += 4
  if (buf.length < offset + length) return null
  let payload = Buffer.from(buf.subarray(offset, offset + length))
  if (mask !== null) payload = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)))
  return { frame: { fin: (first & 0x80) !== 0, opcode: first & 0x0f, masked, payload }, size: offset + length }
}

/** Reads `stream` until one whole frame has arrived; what follows it is left unread in the frame reader's buffer. */
export function readFrame (stream: Readable, timeoutMs = DEADLINE_MS): Promise<Frame> {
  return withTimeout(new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const parsed = parseFrame(buffered)
      if (parsed === null) return
      stream.off('data', onData)
      stream.off('end', onEnd)
      resolve(parsed.frame)
    }
    const onEnd = (): void => reject(new Error('the stream ended before a whole frame arrived'))
    stream.on('data', onData)
    stream.once('end', onEnd)
  }), timeoutMs, 'a WebSocket frame')
}
