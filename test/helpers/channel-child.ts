// A forked child for test/unit/cluster-channel.test.ts: answers over a real IPC pipe, as a worker would.
import { ClusterChannel, type ChannelPort } from '../../src/cluster/cluster-channel.js'

const channel = new ClusterChannel(process as unknown as ChannelPort)
channel.handle('double', (n: number) => n * 2)
channel.handle('fail', () => { throw new Error('refused on purpose') })
channel.handle('echo-map', (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v + 1])))
channel.handle('never', () => new Promise(() => {}))
channel.handle('ask-back', async () => await channel.request<string>('parent-name', null))
channel.on('quit', () => { channel.close(); process.disconnect() })
process.send?.('prom-client-style message without our marker')
channel.emit('ready', { pid: process.pid })
