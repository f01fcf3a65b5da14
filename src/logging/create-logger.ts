import pino, { type Level, type Logger } from 'pino'
import pretty from 'pino-pretty'

export type LogLevel = Level | 'silent'

/**
 * JSON lines by default. Pretty only on a TTY, and as an in-process stream:
 * pino transports run in worker threads that load files by path, which breaks
 * once the router is bundled into one binary (issue #2).
 */
export function createLogger (level: LogLevel, destination: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): Logger {
  const options = { level, base: { name: 'sockrouter' } }
  if (destination.isTTY === true) {
    return pino(options, pretty({ destination, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name' }))
  }
  return pino(options, destination === process.stdout ? stdoutDestination() : destination)
}

/**
 * fd 1 through sonic-boom. When the reader of a pipe goes away (`| head`),
 * writes fail with EPIPE; unhandled, that error left the process unable to
 * exit on SIGTERM, so logging simply stops instead.
 */
function stdoutDestination (): pino.DestinationStream {
  const dest = pino.destination({ fd: 1, sync: true })
  let broken = false
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (broken) return
    broken = true
    if (err.code !== 'EPIPE') process.stderr.write(`sockrouter: logging to stdout failed: ${err.code ?? err.message}\n`)
  })
  return { write: (line: string) => { if (!broken) dest.write(line) } }
}
