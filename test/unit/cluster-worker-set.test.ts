import type { Worker } from 'node:cluster'
import t from 'tap'
import { ClusterChannel } from '../../src/cluster/cluster-channel.js'
import { CLUSTER } from '../../src/cluster/cluster-messages.js'
import { WorkerSet } from '../../src/cluster/worker-set.js'
import { capturingLogger, MemoryPort } from '../helpers/channel-pair.js'
import { onceWithin, withTimeout } from '../helpers/wait-for.js'

// The primary's WorkerSet (issue #14, --workers) over fake cluster workers: each is an in-memory pipe with a
// ClusterChannel at the worker's end, so the test says when a worker listens, fails or exits. Real workers under
// the CLI are test/cluster-workers.test.ts; these are the paths a real one can hardly be made to take on cue.

class FakeWorker extends MemoryPort {
  readonly side: ClusterChannel
  readonly signals: string[] = []
  readonly process: { pid: number, kill: (signal: string) => boolean }
  #dead = false

  constructor (readonly id: number) {
    super()
    const inner = new MemoryPort()
    this.peer = inner
    inner.peer = this
    this.side = new ClusterChannel(inner)
    this.process = { pid: 10_000 + id, kill: (signal) => { this.signals.push(signal); this.emit('signal', signal); return true } }
  }

  isDead (): boolean {
    return this.#dead
  }

  listen (): void {
    this.side.emit(CLUSTER.ready, { addresses: ['127.0.0.1:9988'] })
  }

  exit (code: number | null, signal: string | null = null): void {
    this.#dead = true
    this.connected = false
    this.emit('exit', code, signal)
  }

  /** A round trip to the primary (which answers no handler): everything this worker sent before is handled. */
  async settled (): Promise<void> {
    await this.side.request('round-trip', null).catch(() => {})
  }

  /** Resolves with the next event of `type` the primary sends this worker. */
  next (type: string): Promise<unknown> {
    return withTimeout(new Promise((resolve) => this.side.on(type, resolve)), 10_000, `${type} to worker ${this.id}`)
  }
}

function fakeCluster (t: { teardown (fn: () => unknown): void }, count: number, shutdownGraceMs = 1000): { set: WorkerSet, forked: FakeWorker[], lines: Record<string, unknown>[], forkedCount: (n: number) => Promise<FakeWorker> } {
  const { log, lines } = capturingLogger()
  const forked: FakeWorker[] = []
  const waiters: (() => void)[] = []
  const set = new WorkerSet({
    count,
    log,
    shutdownGraceMs,
    fork: () => {
      const worker = new FakeWorker(forked.length + 1)
      forked.push(worker)
      for (const wake of waiters.splice(0)) wake()
      return worker as unknown as Worker
    }
  })
  t.teardown(() => { set.kill() })
  const forkedCount = async (n: number): Promise<FakeWorker> => {
    while (forked.length < n) await withTimeout(new Promise<void>((resolve) => waiters.push(resolve)), 20_000, `worker ${n} forked`)
    return forked[n - 1] as FakeWorker
  }
  return { set, forked, lines, forkedCount }
}

t.test('start resolves once every worker listens; channel listeners see the running and the later ones', async (t) => {
  const { set, forked } = fakeCluster(t, 2)
  const early: number[] = []
  set.onWorkerChannel((id) => early.push(id))
  let done = false
  const started = set.start().then(() => { done = true })
  t.same(early, [1, 2], 'a listener added before start sees each worker as it is forked')
  ;(forked[0] as FakeWorker).listen()
  await (forked[0] as FakeWorker).settled()
  t.notOk(done, 'one listening worker of two is not a started router')
  ;(forked[1] as FakeWorker).listen()
  await withTimeout(started, 10_000, 'start')
  const late: number[] = []
  const off = set.onWorkerChannel((id) => late.push(id))
  t.same(late, [1, 2], 'a listener added later is called for the running workers')
  off()
  t.same(set.pids(), { 1: 10_001, 2: 10_002 })
  t.same([...set.channels().keys()], [1, 2])
  const got = Promise.all(forked.map((w) => w.next('hello')))
  set.broadcast('hello', { n: 1 })
  t.same(await got, [{ n: 1 }, { n: 1 }], 'a broadcast reaches every live worker')
  const stopping = set.stop()
  for (const w of forked) { await w.next(CLUSTER.shutdown); w.exit(0) }
  await withTimeout(stopping, 10_000, 'stop')
})

t.test('a worker that fails to start fails the start with its own line, and the others are stopped', async (t) => {
  const { set, forked } = fakeCluster(t, 3)
  const started = set.start()
  const [first, second, third] = forked as [FakeWorker, FakeWorker, FakeWorker]
  first.listen()
  await first.settled()
  const shutdown = first.next(CLUSTER.shutdown)
  second.side.emit(CLUSTER.failed, { message: 'cannot listen on 127.0.0.1:80: permission denied' })
  await second.settled()
  second.exit(1)
  await t.rejects(started, { code: 'worker_start', message: 'cannot listen on 127.0.0.1:80: permission denied' })
  await shutdown
  t.pass('the worker that listened is asked to drain')
  t.same(third.signals, ['SIGTERM'], 'the one still starting gets SIGTERM: it may not listen on its channel yet')
  first.exit(0)
  third.exit(null, 'SIGTERM')
  t.equal(forked.length, 3, 'nothing is replaced during start-up')
})

t.test('a worker that exits during start-up without a line is named with its exit', async (t) => {
  const { set, forked } = fakeCluster(t, 1)
  const started = set.start()
  ;(forked[0] as FakeWorker).exit(null, 'SIGKILL')
  await t.rejects(started, { code: 'worker_start', message: 'worker 1 exited during start-up (SIGKILL)' })
})

t.test('a dead worker is logged at error and replaced; the delay doubles while replacements die early, and resets after one lived 10 s', async (t) => {
  const { set, forked, lines, forkedCount } = fakeCluster(t, 2)
  const gone: number[] = []
  set.onWorkerGone((id) => gone.push(id))
  const started = set.start()
  for (const w of forked) w.listen()
  await started
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })

  const deaths: Record<string, unknown>[] = []
  const die = async (worker: FakeWorker, code: number | null, signal: string | null): Promise<FakeWorker> => {
    const before = lines.length
    const count = forked.length
    worker.exit(code, signal)
    const died = lines.slice(before).find((l) => l.level === 50)
    t.ok(died, `worker ${worker.id}'s death is logged at error`)
    deaths.push(died as Record<string, unknown>)
    const replacement = await forkedCount(count + 1)
    replacement.listen()
    await replacement.settled()
    return replacement
  }

  let w = await die(forked[0] as FakeWorker, null, 'SIGKILL')
  t.match(deaths[0], { worker: 1, pid: 10_001, code: null, signal: 'SIGKILL', restartInMs: 100, msg: 'worker 1 died (signal SIGKILL); the others keep serving, a replacement starts in 100 ms' })
  t.ok(lines.some((l) => l.msg === 'worker 3 started to replace a dead one' && l.pid === 10_003))
  t.ok(lines.some((l) => l.msg === 'replacement worker 3 is serving' && l.level === 30))
  w = await die(w, 1, null)
  t.match(deaths[1], { worker: 3, code: 1, signal: null, restartInMs: 200, msg: /died \(exit code 1\).* in 200 ms$/ })
  w = await die(w, 1, null)
  t.equal(deaths[2]?.restartInMs, 400, 'doubles again')
  // Lived 10 s: a crash after a long run is no crash loop.
  Date.now = () => realNow() + 10_000
  w = await die(w, 1, null)
  t.match(deaths[3], { restartInMs: 0, msg: /a replacement starts$/ })
  w = await die(w, 1, null)
  t.equal(deaths[4]?.restartInMs, 100, 'the next early death starts again from 100 ms')
  t.same(gone, [1, 3, 4, 5, 6], 'every exit is reported to the gone listeners')
  t.same(Object.keys(set.pids()).sort(), ['2', '7'], 'the worker that never died keeps serving beside the replacement')

  const stopping = set.stop()
  for (const m of [forked[1], w] as FakeWorker[]) { await m.next(CLUSTER.shutdown); m.exit(0) }
  await withTimeout(stopping, 10_000, 'stop')
  t.notOk(lines.some((l) => l.level === 50 && (l.worker === 2 || l.worker === 7)), 'workers asked to stop are no crash')
})

t.test('stop cancels a replacement that is due, and a worker that hangs past the grace is killed', async (t) => {
  const { set, forked, lines } = fakeCluster(t, 2, 0)
  const started = set.start()
  for (const w of forked) w.listen()
  await started
  const [first, second] = forked as [FakeWorker, FakeWorker]
  first.exit(1)
  t.equal(lines.at(-1)?.restartInMs, 100, 'a replacement is due in 100 ms')
  const stopping = set.stop()
  await second.next(CLUSTER.shutdown)
  // The grace (0 here) and 5 s more: the worker never exits on its own.
  t.same(await onceWithin(second, 'signal', 'SIGKILL to the hanging worker', 20_000), ['SIGKILL'])
  t.ok(lines.some((l) => l.level === 40 && l.msg === 'worker 2 did not exit after the grace period: killing it'))
  second.exit(null, 'SIGKILL')
  await withTimeout(stopping, 10_000, 'stop')
  t.equal(forked.length, 2, 'the replacement due when stop began never started')
})

t.test('kill sends SIGKILL to every worker at once; an IPC error on one is logged, not thrown', async (t) => {
  const { set, forked, lines } = fakeCluster(t, 2)
  const started = set.start()
  for (const w of forked) w.listen()
  await started
  ;(forked[0] as FakeWorker).emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
  t.match(lines.at(-1), { level: 20, worker: 1, err: { code: 'EPIPE' }, msg: 'worker channel error' })
  set.kill()
  t.same(forked.map((w) => w.signals), [['SIGKILL'], ['SIGKILL']])
  for (const w of forked) w.exit(null, 'SIGKILL')
  t.notOk(lines.some((l) => l.level === 50), 'killed on purpose: no death logged')
  t.equal(forked.length, 2, 'and none replaced')
})

t.test('workers that die together are replaced together, and each death\'s line says when that is', async (t) => {
  const { set, forked, lines, forkedCount } = fakeCluster(t, 2)
  const started = set.start()
  for (const w of forked) w.listen()
  await started
  const [first, second] = forked as [FakeWorker, FakeWorker]
  first.exit(1)
  second.exit(1)
  const deaths = lines.filter((l) => l.level === 50)
  t.equal(deaths[0]?.restartInMs, 100)
  // The second death doubled the backoff, but one timer forks whatever is missing: its replacement comes with the first's.
  t.ok((deaths[1]?.restartInMs as number) <= 100, `the second line says ${String(deaths[1]?.restartInMs)} ms, not the 200 it does not wait`)
  const [third, fourth] = await Promise.all([forkedCount(3), forkedCount(4)])
  t.ok(third !== undefined && fourth !== undefined, 'both replacements start on the one timer')
  const stopping = set.stop()
  for (const w of [third, fourth]) w.exit(0)
  await withTimeout(stopping, 10_000, 'stop')
})
