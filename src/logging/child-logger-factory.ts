import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>

/**
 * Fastify makes a child logger for every request, carrying its reqId. For a
 * route with its own log level (the forwarder's `error`), pino then rebuilds
 * every log method of that child, per request (issue #5's profile). Here the
 * level is applied once, to a parent kept per level, and each request's
 * child only adds its bindings, which is cheap. The app has one logger, so
 * the level alone is the key.
 */
export function createChildLoggerFactory (): ChildLoggerFactory {
  const byLevel = new Map<string, FastifyBaseLogger>()
  return function childLogger (logger, bindings, options) {
    const level = options.level
    if (level === undefined || options.serializers !== undefined) return logger.child(bindings, options)
    let parent = byLevel.get(level)
    if (parent === undefined) {
      parent = logger.child({}, { level })
      byLevel.set(level, parent)
    }
    return parent.child(bindings)
  }
}
