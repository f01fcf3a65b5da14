import type { ServicesDirLoader } from '../config/load-services-dir.js'
import type { RouterSnapshot } from '../routing/route-types.js'
import { scanSockets, type IgnoredEntryReporter } from './scan-sockets.js'
import { statSockets } from './stat-sockets.js'

/**
 * One full read of everything routes come from: the socket dir, the
 * services.d files, and the state of every socket those files name. Used by
 * the watcher on every change and by `sockrouter check` once.
 */
export async function readSnapshot (socketDir: string, loader: ServicesDirLoader | null, report: IgnoredEntryReporter): Promise<RouterSnapshot> {
  const sockets = await scanSockets(socketDir, report)
  const files = loader === null ? [] : await loader.load()
  const referenced = files.flatMap((f) => f.specs).flatMap((s) => s.target.kind === 'socket' ? [s.target.socketPath] : [])
  return { sockets, files, socketStates: await statSockets(referenced) }
}
