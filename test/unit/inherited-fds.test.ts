import { closeSync, openSync } from 'node:fs'
import { createServer } from 'node:net'
import t from 'tap'
import { describeSocketFd, takeInheritedFds } from '../../src/listen/inherited-fds.js'

t.test('LISTEN_FDS counts fds from 3 when LISTEN_PID is this process, and the variables are removed', async (t) => {
  const env: NodeJS.ProcessEnv = { LISTEN_PID: String(process.pid), LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin', OTHER: 'kept' }
  t.same(takeInheritedFds(env).map((i) => i.fd), [3, 4])
  t.same(env, { OTHER: 'kept' }, 'a child started later does not take the fds for its own')
})

t.test('fds meant for another process, or a bad count, are ignored', async (t) => {
  t.same(takeInheritedFds({ LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '1' }), [])
  t.same(takeInheritedFds({ LISTEN_PID: String(process.pid), LISTEN_FDS: 'x' }), [])
  t.same(takeInheritedFds({ LISTEN_FDS: '1' }), [])
  t.same(takeInheritedFds({}), [])
})

t.test('a passed TCP socket is described by the address it is bound to', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd
  t.same(describeSocketFd(fd), { kind: 'tcp', host: '127.0.0.1', port: (server.address() as { port: number }).port })
})

t.test('a passed unix socket is described by its path', async (t) => {
  const path = `/tmp/sr-fd-${process.pid}.sock`
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(path, resolve))
  t.teardown(() => server.close())
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd
  t.same(describeSocketFd(fd), { kind: 'unix', path })
})

t.test('an fd that is no socket counts as a wildcard listener', async (t) => {
  const fd = openSync('/dev/null', 'r')
  t.teardown(() => closeSync(fd))
  t.same(describeSocketFd(fd), { kind: 'tcp', host: '0.0.0.0', port: 0 })
})
