import { spawn } from 'node:child_process'
import { once } from 'node:events'

/**
 * Leaves a socket file with nobody behind it, as a crashed service does: a
 * child process listens, then is SIGKILLed before it can unlink the file.
 */
export async function makeStaleSocket (socketPath: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.stdout.write('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await once(child.stdout, 'data')
  child.kill('SIGKILL')
  await once(child, 'exit')
}
