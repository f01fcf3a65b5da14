import t from 'tap'
import { ClusterChannel } from '../../src/cluster/cluster-channel.js'
import { channelPair, MemoryPort } from '../helpers/channel-pair.js'
import { withTimeout } from '../helpers/wait-for.js'

// ClusterChannel (issue #14) where the pipe misbehaves: a worker that is gone, a send that throws, a reply that
// comes too late. The real IPC pipe's happy paths are test/unit/cluster-channel.test.ts.

t.test('an event to a side that is gone is not sent, and says so', async (t) => {
  const port = new MemoryPort()
  port.connected = false
  const channel = new ClusterChannel(port)
  let sent = 0
  t.equal(channel.emit('x', null, () => { sent++ }), false)
  t.equal(sent, 1, 'the sent callback still runs: a worker about to exit does not wait forever')
  t.same(port.sent, [])
})

t.test('a send that throws (the pipe closed in between) fails the event and the request at once', async (t) => {
  const { worker, ports } = channelPair()
  ports[1].failSend = true
  let sent = 0
  t.equal(worker.emit('x', null, () => { sent++ }), false)
  t.equal(sent, 1)
  await t.rejects(worker.request('x', null, 60_000), { code: 'cluster_channel', message: 'cannot send x: the other side is gone' })
  worker.close()
})

t.test('an event\'s sent callback runs once it is written', async (t) => {
  const { primary, worker } = channelPair()
  const got = new Promise((resolve) => primary.on('bye', resolve))
  await withTimeout(new Promise<void>((resolve) => worker.emit('bye', { n: 1 }, resolve)), 10_000, 'the sent callback')
  t.same(await got, { n: 1 })
  primary.close()
  worker.close()
})

t.test('a handler that throws a non-Error, or rejects, is the requester\'s rejection', async (t) => {
  const { primary, worker } = channelPair()
  primary.handle('string', () => { throw 'plain refusal' })
  primary.handle('async', async () => { throw new Error('async refusal') })
  await t.rejects(worker.request('string', null), { message: 'plain refusal' })
  await t.rejects(worker.request('async', null), { message: 'async refusal' })
  primary.close()
  worker.close()
})

t.test('a reply that comes after the deadline is dropped, and the channel goes on', async (t) => {
  const { primary, worker } = channelPair()
  let release: () => void = () => {}
  primary.handle('slow', () => new Promise<string>((resolve) => { release = () => resolve('late') }))
  primary.handle('fast', () => 'fast')
  // A request's deadline timer is unref'd (it must not keep a stopping worker alive); this test must stay alive.
  const alive = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(alive))
  await t.rejects(worker.request('slow', null, 20), { message: 'no reply to slow within 20 ms' })
  release()
  t.equal(await worker.request('fast', null), 'fast', 'the late reply did not answer the next request')
  primary.close()
  worker.close()
})

t.test('a listener taken off hears no more; requests on a closed channel fail at once', async (t) => {
  const { primary, worker } = channelPair()
  const heard: unknown[] = []
  const listener = (body: unknown): void => { heard.push(body) }
  worker.on('tick', listener)
  primary.emit('tick', 1)
  await primary.request('round-trip', null).catch(() => {})
  worker.off('tick', listener)
  primary.emit('tick', 2)
  primary.handle('ping', () => 'pong')
  t.equal(await worker.request('ping', null), 'pong')
  t.same(heard, [1])
  worker.close()
  worker.close()
  await t.rejects(worker.request('ping', null), { message: 'cluster channel closed (ping)' })
  t.equal(worker.emit('tick', 3), false)
  primary.close()
})
