import { fork } from 'node:child_process'
import { join } from 'node:path'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { ClusterChannel, type ChannelPort } from '../../src/cluster/cluster-channel.js'
import { withoutChildCoverage } from '../helpers/child-coverage.js'

const CHILD = join(import.meta.dirname, '..', 'helpers', 'channel-child.ts')

async function startChild (t: Test): Promise<{ channel: ClusterChannel, exited: Promise<unknown> }> {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], env: withoutChildCoverage(), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = once(child, 'exit')
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const channel = new ClusterChannel(child as unknown as ChannelPort)
  channel.handle('parent-name', () => 'primary')
  await new Promise<void>((resolve) => channel.on('ready', () => resolve()))
  return { channel, exited }
}

t.test('requests get their replies over a real IPC pipe, Maps intact and errors as rejections', async (t) => {
  const { channel, exited } = await startChild(t)
  const [a, b] = await Promise.all([channel.request<number>('double', 21), channel.request<number>('double', 5)])
  t.equal(a, 42)
  t.equal(b, 10)
  const map = await channel.request<Map<string, number>>('echo-map', new Map([['x', 1]]))
  t.ok(map instanceof Map, 'advanced serialization keeps a Map a Map')
  t.same([...map], [['x', 2]])
  await t.rejects(channel.request('fail', null), { message: 'refused on purpose' })
  await t.rejects(channel.request('no-such-type', null), { message: 'no handler for no-such-type' })
  t.equal(await channel.request('ask-back', null), 'primary', 'both sides can ask')
  await t.rejects(channel.request('never', null, 50), { code: 'cluster_channel' })
  channel.emit('quit', null)
  await exited
  await t.rejects(channel.request('double', 1), { code: 'cluster_channel' }, 'a request to a gone child fails at once')
  channel.close()
})

t.test('closing the channel fails the requests still waiting', async (t) => {
  const { channel } = await startChild(t)
  const waiting = channel.request('never', null, 60_000)
  channel.close()
  await t.rejects(waiting, { message: 'cluster channel closed' })
})
