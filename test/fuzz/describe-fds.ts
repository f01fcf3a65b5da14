/**
 * Names a process's open fds from /proc, so an fd left over after a run
 * says what it is: a unix socket and its path, a TCP socket and its ports,
 * a pipe, a file.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { eventually } from '../helpers/raw-socket.js'

function socketNames (): Map<string, string> {
  const names = new Map<string, string>()
  try {
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f[6] !== undefined) names.set(f[6], `unix ${f[7] ?? '(unnamed)'}`)
    }
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/)
        if (f[9] === undefined) continue
        const port = (hexPair: string | undefined): number => parseInt(hexPair?.split(':')[1] ?? '0', 16)
        names.set(f[9], `tcp :${port(f[1])} -> :${port(f[2])} state ${f[3] ?? '?'}`)
      }
    }
  } catch {
    // /proc/net may be hidden; the bare link targets still say something.
  }
  return names
}

export function describeFds (pid: number): Map<string, string> {
  const names = socketNames()
  const out = new Map<string, string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
    // A TCP socket the kernel has fully closed leaves /proc/net/tcp: only the process's fd keeps it.
    out.set(fd, inode === undefined ? target : `${target} ${names.get(inode) ?? '(in no /proc/net table: a closed TCP socket the process never destroyed)'}`)
  }
  return out
}

/** The fds open now that were not open in `before`. */
export function newFds (before: Map<string, string>, pid: number): string[] {
  const now = describeFds(pid)
  return [...now].filter(([fd, what]) => before.get(fd) !== what).map(([fd, what]) => `fd ${fd}: ${what}`)
}

/**
 * Resolves once `pid` holds an inotify fd: its directory watches are in
 * place. The router starts them just after it listens (issue #14,
 * start-up), so an fd baseline taken at "ready" would miss that one fd and
 * call it a leak at the end. Throws after `timeoutMs`: a router that never
 * watches its socket dir is a failure of its own.
 */
export async function waitForWatches (pid: number, timeoutMs: number): Promise<void> {
  await eventually(() => [...describeFds(pid).values()].some((target) => target === 'anon_inode:inotify'), timeoutMs, `the router (pid ${pid}) to set up a directory watch`)
}
