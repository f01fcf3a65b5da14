import t from 'tap'
import type { TunnelAdmin } from '../../src/admin/admin-api-deps.js'
import type { WorkerChannel } from '../../src/cluster/ask-every-worker.js'
import { CLUSTER, type LatestReply, type SnapshotMessage } from '../../src/cluster/cluster-messages.js'
import { answerTunnels, ClusterTunnels, serveTunnels } from '../../src/cluster/cluster-tunnels.js'
import { RemoteSnapshotSource } from '../../src/cluster/remote-snapshot-source.js'
import type { RouterSnapshot } from '../../src/routing/route-types.js'
import type { TunnelInfo } from '../../src/upgrade/tunnel-registry.js'
import { capturingLogger, channelPair } from '../helpers/channel-pair.js'
import { withTimeout } from '../helpers/wait-for.js'

// A worker's view of the primary under --workers (issue #14), over in-memory pipes: the snapshots it routes by,
// the rescans it asks for, and the tunnels API that shows the whole router.

const snapshot = (dir: string): RouterSnapshot => ({ sockets: { dir, sockets: [], serviceDirs: [] }, files: [], socketStates: new Map([[dir, null]]) })
const message = (seq: number, dir: string): SnapshotMessage => ({ seq, snapshot: snapshot(dir) })

t.test('a worker starts from the primary\'s latest snapshot, failure and verdicts, then follows newer snapshots, never older ones', async (t) => {
  const { primary, worker } = channelPair()
  const { log } = capturingLogger()
  const failure = { message: 'EACCES: /run/sockets', since: '2026-12-01T00:00:00.000Z' }
  primary.handle(CLUSTER.latest, (): LatestReply => ({ latest: message(3, '/three'), failure, health: [{ prefix: '/a/', state: 'unhealthy', cause: 'HTTP 503' }] }))
  const source = new RemoteSnapshotSource(worker, log)
  const seen: string[] = []
  source.on('snapshot', (s) => seen.push(s.sockets.dir))
  const first = await source.start()
  t.equal(first.sockets.dir, '/three')
  t.ok(first.socketStates instanceof Map, 'Maps survive the pipe')
  t.same(source.failure, failure)
  t.same(source.startHealth, [{ prefix: '/a/', state: 'unhealthy', cause: 'HTTP 503' }])

  const failures: unknown[] = []
  source.on('failure', (f) => failures.push(f))
  primary.emit(CLUSTER.snapshot, message(2, '/two-late'))
  primary.emit(CLUSTER.snapshot, message(4, '/four'))
  primary.emit(CLUSTER.snapshot, message(4, '/four-again'))
  primary.emit(CLUSTER.failure, null)
  await withTimeout(new Promise((resolve) => source.once('failure', resolve)), 10_000, 'the failure event')
  t.same(seen, ['/three', '/four'], 'an older or repeated sequence number is dropped')
  t.equal(source.last?.sockets.dir, '/four')
  t.equal(source.failure, null, 'the failure cleared')
  t.same(failures, [null])

  await source.close()
  primary.emit(CLUSTER.snapshot, message(5, '/five'))
  await worker.request('round-trip', null).catch(() => {})
  t.same(seen, ['/three', '/four'], 'a closed source publishes nothing')
  primary.close()
  worker.close()
})

t.test('a snapshot the worker cannot apply leaves the last good one in force, and the next one applies', async (t) => {
  const { primary, worker } = channelPair()
  const { log, lines } = capturingLogger()
  primary.handle(CLUSTER.latest, (): LatestReply => ({ latest: message(1, '/good'), failure: null, health: [] }))
  const source = new RemoteSnapshotSource(worker, log)
  source.on('snapshot', (s) => { if (s.sockets.dir === '/bad') throw new Error('table build failed') })
  await source.start()
  const applied = new Promise((resolve) => source.on('snapshot', (s) => { if (s.sockets.dir === '/better') resolve(s) }))
  primary.emit(CLUSTER.snapshot, message(2, '/bad'))
  await worker.request('round-trip', null).catch(() => {})
  t.match(lines.find((l) => l.level === 50), { msg: 'applying the primary\'s snapshot failed; the last good route table stays in force: table build failed' })
  t.equal(source.last?.sockets.dir, '/good', 'the last good snapshot is still the one in force')
  primary.emit(CLUSTER.snapshot, message(3, '/better'))
  await withTimeout(applied, 10_000, 'the next snapshot')
  t.equal(source.last?.sockets.dir, '/better')
  primary.close()
  worker.close()
})

t.test('a source whose primary sent no snapshot, or never answers, fails to start', async (t) => {
  const { primary, worker } = channelPair()
  primary.handle(CLUSTER.latest, (): LatestReply => ({ latest: message(-1, '/none'), failure: null, health: [] }))
  await t.rejects(new RemoteSnapshotSource(worker, capturingLogger().log).start(), { code: 'first_scan' })
  const gone = channelPair()
  gone.primary.close()
  gone.ports[1].connected = false
  await t.rejects(new RemoteSnapshotSource(gone.worker, capturingLogger().log).start(), { code: 'cluster_channel' })
  primary.close()
  worker.close()
})

t.test('a rescan is the primary\'s: one it fails is logged and resolves; a closed source does not ask', async (t) => {
  const { primary, worker } = channelPair()
  const { log, lines } = capturingLogger()
  let asked = 0
  primary.handle(CLUSTER.rescan, () => { asked++; throw new Error('disk gone') })
  const source = new RemoteSnapshotSource(worker, log)
  await source.rescan()
  t.equal(asked, 1)
  t.match(lines.at(-1), { level: 40, msg: 'the primary did not answer a rescan', err: { message: 'disk gone' } })
  await source.close()
  await source.rescan()
  t.equal(asked, 1, 'closed: no question asked')
  primary.close()
  worker.close()
})

function tunnel (id: string, startedAt: number): TunnelInfo {
  return { id, route: '/chat/ws/', client: '127.0.0.1:1', startedAt, bytesIn: 0, bytesOut: 0 }
}

/** A worker's registry: its open tunnels, and the ids it was asked to cut. */
function registry (open: TunnelInfo[]): TunnelAdmin & { cutAsked: string[] } {
  const cutAsked: string[] = []
  return {
    cutAsked,
    list: () => open,
    close: async (id) => {
      cutAsked.push(id)
      const i = open.findIndex((x) => x.id === id)
      if (i === -1) return false
      open.splice(i, 1)
      return true
    }
  }
}

t.test('the tunnels API in a worker: every worker\'s tunnels through the primary, cut wherever they are', async (t) => {
  // Two workers as the primary sees them, each serving its registry; the asking worker's own pipe to the primary.
  const one = channelPair()
  const two = channelPair()
  const regOne = registry([tunnel('1-1', 30), tunnel('1-2', 10)])
  const regTwo = registry([tunnel('2-1', 20)])
  serveTunnels(one.worker, regOne)
  serveTunnels(two.worker, regTwo)
  const workers = (): WorkerChannel[] => [{ id: '1', channel: one.primary }, { id: '2', channel: two.primary }]
  const asking = channelPair()
  answerTunnels(asking.primary, workers)
  const local = registry([])
  const view = new ClusterTunnels(local, asking.worker)

  t.same((await view.list()).map((x) => x.id), ['1-2', '2-1', '1-1'], 'both workers\' tunnels, oldest first')
  t.equal(await view.close('2-1'), true, 'a tunnel on another worker is cut through the primary')
  t.same(regOne.cutAsked, [], 'only the worker its id names is asked')
  t.same(regTwo.cutAsked, ['2-1'])
  t.equal(await view.close('9-1'), false, 'an id whose worker is gone: every worker is asked, none has it')
  t.same(regOne.cutAsked, ['9-1'])
  t.equal(await view.close('nodash'), false)
  t.same(regTwo.cutAsked, ['2-1', '9-1', 'nodash'])
  t.same(local.cutAsked, ['2-1', '9-1', 'nodash'], 'the asking worker looks in its own registry first')

  // The primary goes away: the list is this worker's own, true if partial; a cut elsewhere cannot happen.
  const own = registry([tunnel('3-1', 5)])
  asking.primary.close()
  asking.ports[1].connected = false
  const alone = new ClusterTunnels(own, asking.worker)
  t.same((await alone.list()).map((x) => x.id), ['3-1'])
  t.equal(await alone.close('1-1'), false)
  t.equal(await alone.close('3-1'), true, 'its own tunnel is cut without the primary')
  for (const pair of [one, two, asking]) { pair.primary.close(); pair.worker.close() }
})
