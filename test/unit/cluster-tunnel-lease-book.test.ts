import t from 'tap'
import { TunnelLeaseBook } from '../../src/cluster/tunnel-lease-book.js'
import { RemoteTunnelLeases } from '../../src/cluster/remote-tunnel-leases.js'
import { CLUSTER, type TunnelLeaseReply, type TunnelLeaseRequest } from '../../src/cluster/cluster-messages.js'
import { channelPair } from '../helpers/channel-pair.js'

// The primary's router-wide tunnel count under --workers (issue #14) on its own; the whole router is
// test/cluster-limits.test.ts and test/cluster-workers.test.ts.

const claim = (ip: string | undefined, routeKey = 'chat/ws', routeMax: number | null = null): TunnelLeaseRequest => ({ ip, routeKey, routeMax })

t.test('--max-tunnels counts every worker\'s leases together', async (t) => {
  const book = new TunnelLeaseBook({ maxTunnels: 2, maxTunnelsPerIp: 100 })
  t.type(book.acquire(1, claim('10.0.0.1')), 'number')
  t.type(book.acquire(2, claim('10.0.0.2')), 'number')
  t.equal(book.acquire(1, claim('10.0.0.3')), null, 'the third, from any worker and address, is refused')
  t.equal(book.size, 2)
})

t.test('--max-tunnels-per-ip counts one address across workers; other addresses and unix clients are apart', async (t) => {
  const book = new TunnelLeaseBook({ maxTunnels: 100, maxTunnelsPerIp: 2 })
  const first = book.acquire(1, claim('10.0.0.1')) as number
  t.type(book.acquire(2, claim('10.0.0.1')), 'number')
  t.equal(book.acquire(2, claim('10.0.0.1')), null, 'a third from 10.0.0.1 on either worker is refused')
  t.type(book.acquire(1, claim('10.0.0.2')), 'number', 'another address is admitted')
  for (let i = 0; i < 3; i++) t.type(book.acquire(1, claim(undefined)), 'number', `unix client ${i + 1}: no address, no per-IP count`)
  book.release(1, first)
  t.type(book.acquire(2, claim('10.0.0.1')), 'number', 'a lease given back frees the address\'s slot')
})

t.test('a route\'s maxTunnels counts that route across workers, and only that route', async (t) => {
  const book = new TunnelLeaseBook({ maxTunnels: 100, maxTunnelsPerIp: 100 })
  const first = book.acquire(1, claim('10.0.0.1', 'limited', 1)) as number
  t.type(first, 'number')
  t.equal(book.acquire(2, claim('10.0.0.2', 'limited', 1)), null, 'the route is full for every worker')
  t.type(book.acquire(2, claim('10.0.0.2', 'other', 1)), 'number', 'another route has its own count')
  t.type(book.acquire(2, claim('10.0.0.2', 'free', null)), 'number', 'a route without maxTunnels has no route limit')
  book.release(1, first)
  t.type(book.acquire(2, claim('10.0.0.2', 'limited', 1)), 'number', 'given back: the route admits again')
})

t.test('only the worker that holds a lease can give it back, and only once', async (t) => {
  const book = new TunnelLeaseBook({ maxTunnels: 1, maxTunnelsPerIp: 100 })
  const lease = book.acquire(1, claim('10.0.0.1')) as number
  book.release(2, lease)
  t.equal(book.size, 1, 'another worker\'s release of it is ignored')
  book.release(1, lease + 1)
  t.equal(book.size, 1, 'an unknown id is ignored')
  book.release(1, lease)
  book.release(1, lease)
  t.equal(book.size, 0)
  const next = book.acquire(1, claim('10.0.0.1')) as number
  t.not(next, lease, 'lease ids are not reused')
  t.equal(book.acquire(1, claim('10.0.0.2')), null, 'a second release did not free a slot it never held')
})

t.test('a worker that dies gives back every lease it held, and nobody else\'s', async (t) => {
  const book = new TunnelLeaseBook({ maxTunnels: 3, maxTunnelsPerIp: 2 })
  book.acquire(1, claim('10.0.0.1', 'limited', 2))
  book.acquire(1, claim('10.0.0.1', 'limited', 2))
  book.acquire(2, claim('10.0.0.2'))
  t.equal(book.acquire(2, claim('10.0.0.1')), null, '10.0.0.1 is at its limit')
  book.releaseWorker(1)
  t.equal(book.size, 1, 'worker 2\'s lease stays')
  t.type(book.acquire(2, claim('10.0.0.1', 'limited', 2)), 'number', 'the address and the route count again from what is left')
  t.type(book.acquire(2, claim('10.0.0.1', 'limited', 2)), 'number')
  t.equal(book.acquire(2, claim('10.0.0.3')), null, 'and the total is full again: 3')
})

t.test('a worker\'s RemoteTunnelLeases acquires and gives back through the primary\'s book over the channel', async (t) => {
  const book = new TunnelLeaseBook({ maxTunnels: 1, maxTunnelsPerIp: 100 })
  const { primary, worker } = channelPair()
  primary.handle(CLUSTER.lease, (c: TunnelLeaseRequest): TunnelLeaseReply => ({ lease: book.acquire(7, c) }))
  const released = new Promise<void>((resolve) => primary.on(CLUSTER.release, (lease: number) => { book.release(7, lease); resolve() }))
  const leases = new RemoteTunnelLeases(worker)
  const lease = await leases.acquire(claim('10.0.0.1'))
  t.type(lease, 'number')
  t.equal(await leases.acquire(claim('10.0.0.2')), null, 'the primary\'s refusal is a null lease')
  leases.release(lease as number)
  await released
  t.type(await leases.acquire(claim('10.0.0.2')), 'number', 'the slot given back is free')
  primary.close()
  worker.close()
})
