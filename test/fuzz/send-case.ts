/**
 * One case over one raw TCP connection, from the case's own loopback
 * address (case-address.ts): write the bytes (in the case's
 * segments), read until the router closes. A router that goes quiet
 * without closing is waiting for bytes the case promised (a body it never
 * sent, say), so after `idleMs` the client sends FIN; from then on the
 * router must close within `closeDeadlineMs`, or the case is a hang.
 */
import { connect } from 'node:net'
import { caseAddress } from './case-address.js'
import type { FuzzCase } from './case-types.js'

export interface Timing {
  readonly idleMs: number
  readonly closeDeadlineMs: number
}

export interface CaseOutcome {
  readonly received: Buffer
  /** The client sent FIN because the router went quiet. */
  readonly finSent: boolean
  /** The router neither answered nor closed within the deadline after FIN. */
  readonly hung: boolean
  readonly error: string | null
  readonly elapsedMs: number
}

export function sendCase (port: number, c: FuzzCase, timing: Timing): Promise<CaseOutcome> {
  return new Promise((resolve) => {
    const started = performance.now()
    const chunks: Buffer[] = []
    let finSent = false
    let hung = false
    let error: string | null = null
    let idle: NodeJS.Timeout | undefined
    let deadline: NodeJS.Timeout | undefined
    // From the case's own address, so that what reaches a backend is traced to this connection.
    const socket = connect({ port, host: '127.0.0.1', localAddress: caseAddress(c.index) })
    socket.setNoDelay(true)
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message })
    const armIdle = (): void => {
      clearTimeout(idle)
      if (finSent) return
      idle = setTimeout(() => {
        finSent = true
        socket.end()
        deadline = setTimeout(() => { hung = true; socket.destroy() }, timing.closeDeadlineMs)
      }, timing.idleMs)
    }
    socket.on('data', (chunk: Buffer) => { chunks.push(chunk); armIdle() })
    socket.on('close', () => {
      clearTimeout(idle)
      clearTimeout(deadline)
      resolve({ received: Buffer.concat(chunks), finSent, hung, error, elapsedMs: performance.now() - started })
    })
    socket.on('connect', () => {
      let offset = 0
      const writeNext = (i: number): void => {
        if (socket.destroyed) return
        const size = c.segments[i]
        if (size === undefined) { armIdle(); return }
        socket.write(c.bytes.subarray(offset, offset + size))
        offset += size
        setImmediate(() => writeNext(i + 1))
      }
      writeNext(0)
    })
  })
}
