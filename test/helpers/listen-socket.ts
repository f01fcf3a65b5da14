import { createServer, type AddressInfo, type Server } from 'node:net'

/** Resolves once `server` listens on the unix socket `path`; rejects on a bind error. */
export function listenOnSocket (server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
}

/** A loopback TCP port held by another listener until the test ends: for "port in use" start-up errors. */
export async function occupyPort (t: { teardown: (fn: () => void) => void }): Promise<number> {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  return (blocker.address() as AddressInfo).port
}
