import { BlockList, isIP } from 'node:net'

/** One `--trusted-proxy` entry: `10.0.0.0/8`, `fd00::/8`, `192.0.2.7` or `::1`. */
export interface ProxyRange {
  readonly address: string
  readonly prefix: number
  readonly family: 'ipv4' | 'ipv6'
}

/** Parses an IPv4 or IPv6 CIDR or plain address; null if it is neither. */
export function parseProxyRange (text: string): ProxyRange | null {
  const [address = '', prefixText, extra] = text.trim().replace(/^\[(.*)\]/, '$1').split('/')
  if (extra !== undefined) return null
  const version = isIP(address)
  if (version === 0) return null
  const family = version === 4 ? 'ipv4' : 'ipv6'
  const max = version === 4 ? 32 : 128
  if (prefixText === undefined) return { address, prefix: max, family }
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null
  return { address, prefix: Number(prefixText), family }
}

/**
 * The clients whose X-Forwarded-* the router believes (issue #10, defect 9):
 * the balancers in front of it, given with `--trusted-proxy`, and every
 * client of a unix listener, which is a local process (it has no address).
 * Anyone else could write any X-Forwarded-For it likes, so theirs are
 * replaced, as Traefik does with `forwardedHeaders.insecure: false`.
 */
export class TrustedProxies {
  // Null when there are no ranges: the default instance is made at load time, and a BlockList (a native handle)
  // cannot be in the single binary's start-up snapshot (issue #11).
  readonly #list: BlockList | null

  constructor (ranges: readonly ProxyRange[]) {
    this.#list = ranges.length === 0 ? null : new BlockList()
    for (const range of ranges) this.#list?.addSubnet(range.address, range.prefix, range.family)
  }

  /** `remoteAddress` of the client socket; undefined for a unix listener. */
  trusts (remoteAddress: string | undefined): boolean {
    if (remoteAddress === undefined) return true
    if (this.#list === null) return false
    const family = isIP(remoteAddress)
    // BlockList matches an IPv4-mapped IPv6 address (a dual-stack `::` listener) against IPv4 rules too.
    return family !== 0 && this.#list.check(remoteAddress, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/** Trusts unix-listener clients only: the default. */
export const NO_TRUSTED_PROXIES = new TrustedProxies([])
