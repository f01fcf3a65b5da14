import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../src/logging/create-logger.js'
import { onceWithin } from '../helpers/wait-for.js'

function sink (isTTY: boolean): Writable & { isTTY: boolean, text: () => string } {
  let text = ''
  const stream: Writable = new Writable({ write (chunk: Buffer, _enc, done) { text += chunk.toString(); stream.emit('written'); done() } })
  return Object.assign(stream, { isTTY, text: () => text })
}

t.test('JSON lines with stable fields when not on a terminal', async (t) => {
  const out = sink(false)
  const log = await createLogger('info', out)
  log.info({ service: 'svc', status: 200 }, 'request')
  const line = JSON.parse(out.text()) as Record<string, unknown>
  t.match(line, { level: 30, name: 'sockrouter', service: 'svc', status: 200, msg: 'request' })
})

t.test('pretty, not JSON, on a terminal', async (t) => {
  const out = sink(true)
  const log = await createLogger('info', out)
  // Waits for the sink's write rather than assuming the pretty stream writes synchronously.
  const written = onceWithin(out, 'written', 'the pretty line')
  log.info({ service: 'svc' }, 'hello pretty')
  await written
  t.match(out.text(), /hello pretty/)
  t.throws(() => JSON.parse(out.text()), 'not a JSON line')
})

t.test('the level filters', async (t) => {
  const out = sink(false)
  const log = await createLogger('warn', out)
  log.info('dropped')
  log.warn('kept')
  t.match(out.text(), /kept/)
  t.notMatch(out.text(), /dropped/)
})
