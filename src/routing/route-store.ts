import { EventEmitter } from 'node:events'
import { EMPTY_TABLE } from './build-route-table.js'
import { diffRouteTables, type RouteChange } from './diff-route-tables.js'
import type { RouteTable } from './route-types.js'

export interface RouteSwap {
  readonly previous: RouteTable
  readonly current: RouteTable
  readonly changes: readonly RouteChange[]
}

/**
 * Holds the one current table. Readers take `current` once per request and
 * keep that reference, so a swap never changes a table under an in-flight
 * request.
 */
export class RouteStore extends EventEmitter<{ swap: [RouteSwap] }> {
  #current: RouteTable = EMPTY_TABLE

  get current (): RouteTable {
    return this.#current
  }

  swap (next: RouteTable): RouteSwap {
    const previous = this.#current
    this.#current = next
    const swap: RouteSwap = { previous, current: next, changes: diffRouteTables(previous, next) }
    this.emit('swap', swap)
    return swap
  }
}
