import t from 'tap'
import { childEnv, spawnChild } from '../bench/children.js'

/**
 * The bench's children start without the host's NODE_EXTRA_CA_CERTS
 * (bench/children.ts): Node parses that file as it starts, so it would time
 * the host's CA bundle as part of every start-up figure (issue #14).
 */

t.test('a process the bench starts runs without NODE_EXTRA_CA_CERTS and keeps the rest of the environment', async (t) => {
  const saved = process.env.NODE_EXTRA_CA_CERTS
  process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/ca.pem'
  t.teardown(() => {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS
    else process.env.NODE_EXTRA_CA_CERTS = saved
  })
  const child = spawnChild('env-probe', process.execPath, ['-e', 'process.stdout.write(JSON.stringify([process.env.NODE_EXTRA_CA_CERTS ?? null, process.env.PROBE_EXTRA ?? null, process.env.PATH === undefined]))'], {
    stdout: 'pipe',
    env: { PROBE_EXTRA: 'kept' }
  })
  let out = ''
  child.proc.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  t.equal(await child.exited, 0, `the probe exits 0: ${child.stderrTail()}`)
  t.same(JSON.parse(out), [null, 'kept', false])
})

t.test('childEnv leaves out the listed variables even when a caller passes one', async (t) => {
  const env = childEnv({ NODE_EXTRA_CA_CERTS: '/x.pem', KEEP: '1' }, { HOME: '/root', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' })
  t.same(env, { HOME: '/root', KEEP: '1' })
})
