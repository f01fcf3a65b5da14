import type { Server } from 'node:net'

/** Resolves once `server` listens on the unix socket `path`; rejects on a bind error. */
export function listenOnSocket (server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
}
