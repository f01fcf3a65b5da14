import { readFileSync, readlinkSync } from 'node:fs'
import type { Server } from 'node:http'
import type { ListenAddress } from './listen-address.js'
import { trackConnections } from './graceful-close.js'
import { ListenError, type Listener } from './start-listeners.js'

/**
 * Socket activation (issue #11): systemd binds the listening sockets of
 * sockrouter.socket itself and passes them to the service as fds 3, 4, …
 * with LISTEN_FDS=<count> and LISTEN_PID=<the service's pid>, as
 * sd_listen_fds(3) describes. Serving on them instead of binding means a
 * restart refuses nothing: while no router runs, systemd still holds the
 * socket and the kernel queues new connections in its backlog.
 */
export const SD_LISTEN_FDS_START = 3

export interface InheritedFd {
  readonly fd: number
  /** What the socket is bound to, read from /proc before listening; the Host guard needs it up front. */
  readonly address: ListenAddress
}

/**
 * The fds passed to this process, or none. LISTEN_PID guards against
 * variables inherited by a child that were meant for its parent; the
 * variables are then removed, as sd_listen_fds(1) does, so that processes
 * started later do not take the fds for theirs.
 */
export function takeInheritedFds (env: NodeJS.ProcessEnv, pid = process.pid): InheritedFd[] {
  const pidText = env.LISTEN_PID
  const countText = env.LISTEN_FDS
  delete env.LISTEN_PID
  delete env.LISTEN_FDS
  delete env.LISTEN_FDNAMES
  if (pidText === undefined || countText === undefined || Number(pidText) !== pid) return []
  const count = Number(countText)
  if (!Number.isInteger(count) || count < 1) return []
  return Array.from({ length: count }, (_, i) => {
    const fd = SD_LISTEN_FDS_START + i
    return { fd, address: describeSocketFd(fd) }
  })
}

function socketInode (fd: number): string | null {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? null
  } catch {
    return null
  }
}

function readProc (name: string): string[] {
  try {
    return readFileSync(`/proc/net/${name}`, 'utf8').split('\n').slice(1)
  } catch {
    return []
  }
}

/** /proc/net/tcp{,6} print addresses as 32-bit words in host (little-endian) order. */
function decodeHostHex (hex: string): string {
  const words = hex.match(/.{8}/g) ?? []
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)))
  if (bytes.length === 4) return bytes.join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16))
  const text = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
  // An IPv4-mapped address, as a dual-stack socket shows 0.0.0.0.
  const mapped = /^::ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text)
  if (mapped !== null) return [parseInt(mapped[1] ?? '0', 16) >> 8, parseInt(mapped[1] ?? '0', 16) & 255, parseInt(mapped[2] ?? '0', 16) >> 8, parseInt(mapped[2] ?? '0', 16) & 255].join('.')
  return text
}

/**
 * The address a passed fd is bound to, from /proc/net. An fd that is not
 * found there (not Linux, an unusual socket) counts as a wildcard TCP
 * listener, which lets the Host guard accept this machine's own addresses.
 */
export function describeSocketFd (fd: number): ListenAddress {
  const inode = socketInode(fd)
  if (inode !== null) {
    for (const table of ['tcp', 'tcp6']) {
      for (const line of readProc(table)) {
        const cols = line.trim().split(/\s+/)
        if (cols[9] !== inode) continue
        const [hostHex = '', portHex = '0'] = (cols[1] ?? '').split(':')
        return { kind: 'tcp', host: decodeHostHex(hostHex), port: parseInt(portHex, 16) }
      }
    }
    for (const line of readProc('unix')) {
      const cols = line.trim().split(/\s+/)
      if (cols[6] === inode && cols[7] !== undefined) return { kind: 'unix', path: cols[7] }
    }
  }
  return { kind: 'tcp', host: '0.0.0.0', port: 0 }
}

/**
 * Serves on an inherited listening fd. Nothing is bound or unlinked: the
 * socket, and a unix socket's file, belong to systemd, and closing the
 * listener only closes this process's copy of the fd.
 */
export async function listenOnFd (server: Server, inherited: InheritedFd): Promise<Listener> {
  trackConnections(server)
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new ListenError(inherited.address, err.code ?? 'listen_failed', `inherited fd ${inherited.fd}: ${err.code ?? err.message}`))
    }
    server.once('error', onError)
    server.listen({ fd: inherited.fd }, () => { server.off('error', onError); resolve() })
  })
  const info = server.address()
  const address: ListenAddress = info !== null && typeof info === 'object'
    ? { kind: 'tcp', host: info.address, port: info.port }
    : inherited.address
  return { server, address }
}
