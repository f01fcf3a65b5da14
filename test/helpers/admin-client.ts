import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { httpGet, type HttpResult } from './http-client.js'

const run = promisify(execFile)

export interface AdminAnswer extends HttpResult {
  /** The body parsed as JSON, or null when it is not JSON. */
  readonly json: Record<string, unknown> | null
}

export interface AdminCall {
  readonly method?: string
  readonly body?: string
  readonly contentType?: string
  readonly headers?: Record<string, string>
}

function parsed (result: HttpResult): AdminAnswer {
  let json: Record<string, unknown> | null = null
  try {
    json = JSON.parse(result.text) as Record<string, unknown>
  } catch {
    json = null
  }
  return { ...result, json }
}

/** One admin request over a unix socket (an `--admin-listen unix:` listener, or a unix public listener). */
export async function adminOverUnix (socketPath: string, path: string, call: AdminCall = {}): Promise<AdminAnswer> {
  const headers: Record<string, string> = { host: 'localhost', ...call.headers }
  if (call.contentType !== undefined) headers['content-type'] = call.contentType
  return parsed(await httpGet(`http://localhost${path}`, { method: call.method, body: call.body, headers, socketPath }))
}

/** One admin request to a TCP base URL such as `http://127.0.0.1:1234`. */
export async function adminOverTcp (base: string, path: string, call: AdminCall = {}): Promise<AdminAnswer> {
  const headers: Record<string, string> = { ...call.headers }
  if (call.contentType !== undefined) headers['content-type'] = call.contentType
  return parsed(await httpGet(`${base}${path}`, { method: call.method, body: call.body, headers }))
}

/** The real curl, as a user would reach a unix admin socket: status and body. */
export async function curlUnix (socketPath: string, path: string, args: readonly string[] = []): Promise<{ status: number, body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', socketPath, ...args, `http://localhost${path}`])
  const cut = stdout.lastIndexOf('\n')
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) }
}
