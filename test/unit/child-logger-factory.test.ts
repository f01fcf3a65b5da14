import { Writable } from 'node:stream'
import t from 'tap'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { createChildLoggerFactory } from '../../src/logging/child-logger-factory.js'
import { createLogger } from '../../src/logging/create-logger.js'

function capture (): { stream: Writable, lines: () => Record<string, unknown>[] } {
  let text = ''
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { text += chunk.toString(); done() } })
  return { stream, lines: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const factory = createChildLoggerFactory()
function child (logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: Record<string, unknown>): FastifyBaseLogger {
  return factory.call({} as FastifyInstance, logger, bindings, options, {} as IncomingMessage)
}

t.test('a request child on a route with its own level keeps that level and its reqId', async (t) => {
  const out = capture()
  const logger = await createLogger('info', out.stream) as FastifyBaseLogger
  const first = child(logger, { reqId: 'req-1' }, { level: 'error' })
  const second = child(logger, { reqId: 'req-2' }, { level: 'error' })
  first.warn('hidden: below the route level')
  first.error('shown')
  second.error('shown too')
  logger.info('the app logger keeps its own level')
  t.same(out.lines().map((l) => [l.reqId, l.msg]), [
    ['req-1', 'shown'],
    ['req-2', 'shown too'],
    [undefined, 'the app logger keeps its own level']
  ])
})

t.test('a request child without a route level inherits the app level', async (t) => {
  const out = capture()
  const logger = await createLogger('info', out.stream) as FastifyBaseLogger
  child(logger, { reqId: 'req-3' }, {}).info('info passes')
  t.same(out.lines().map((l) => [l.reqId, l.msg]), [['req-3', 'info passes']])
})
