import { GatewayError } from '../forward/gateway-errors.js'

/**
 * The names the services.d loader reads (load-services-dir.ts): no leading
 * dot, ending .yaml, .yml or .json. Anything that could leave the directory
 * or hide in it (a slash, a backslash, NUL, `..`) is refused before the
 * file system sees it (issue #12).
 */
const ROUTE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,199}\.(?:ya?ml|json)$/

export function checkRouteFileName (name: string): string {
  if (!ROUTE_FILE_NAME.test(name) || name.includes('..')) {
    throw new GatewayError('bad_request', {
      message: 'A route file name is a plain file name ending .yaml, .yml or .json: letters, digits and . _ - + @, no slash, not starting with a dot.'
    })
  }
  return name
}
