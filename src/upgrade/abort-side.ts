import { constants, type Http2Stream } from 'node:http2'
import type { Duplex } from 'node:stream'

/** An RFC 8441 tunnel's client side; `rstCode` is a getter on every Http2Stream and on no socket. */
export function isHttp2Stream (side: Duplex): side is Http2Stream {
  return 'rstCode' in side
}

/**
 * Cuts one side of a tunnel abortively. A socket is destroyed. An HTTP/2
 * stream is reset with CANCEL first, which RFC 8441 §5 maps to a TCP RST;
 * Node's destroy() alone would reset it with NO_ERROR, which reads as the
 * orderly end of a complete exchange (RFC 9113 §8.1).
 */
export function abortSide (side: Duplex): void {
  if (isHttp2Stream(side) && !side.closed && !side.destroyed) side.close(constants.NGHTTP2_CANCEL)
  side.destroy()
}

/** True when `side` closed abortively: by error, or, for a stream, by a reset other than NO_ERROR. */
export function closedAbortively (side: Duplex, hadError: boolean | undefined): boolean {
  return hadError === true || (isHttp2Stream(side) && side.rstCode !== constants.NGHTTP2_NO_ERROR)
}
