/** The bodies every backend answers with, shared so the node:http and nginx backends send the same bytes. */

/** ~100 B of JSON: a typical small API answer (issue #5). */
export const SMALL_JSON = '{"ok":true,"service":"bench","items":[1,2,3,4,5],"message":"hello from a unix socket backend"}'

export const BIG_BODY_BYTES = 1024 * 1024
