import { watch, type FSWatcher } from 'chokidar'

export interface DirectoryWatch {
  /** Makes the watched set exactly `dirs`. */
  set (dirs: Iterable<string>): void
  close (): Promise<void>
}

/**
 * Says only "something changed", never what: the caller rescans everything
 * (the Traefik file-provider model), so a missed or reordered event can never
 * leave a stale route behind.
 */
export async function watchDirectories (dirs: readonly string[], depth: number, onChange: () => void, onError: (err: unknown) => void): Promise<DirectoryWatch> {
  const watched = new Set(dirs)
  const watcher: FSWatcher = watch([...watched], {
    depth,
    ignoreInitial: true,
    // chokidar's atomic mode holds unlink events back for 100 ms to merge them
    // with a re-add; we rescan anyway, and issue #2 wants removals fast.
    atomic: false,
    persistent: true
  })
  // `raw` comes straight from fs.watch. chokidar's own events are filtered
  // through its state and a 1 s readdir throttle, and lost a socket re-created
  // within that window; a full rescan makes every extra signal harmless.
  watcher.on('raw', () => onChange())
  watcher.on('all', () => onChange())
  watcher.on('error', onError)
  // chokidar never says `ready` for an empty list.
  if (watched.size > 0) await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    set (next) {
      const wanted = new Set(next)
      const gone = [...watched].filter((d) => !wanted.has(d))
      const added = [...wanted].filter((d) => !watched.has(d))
      if (gone.length > 0) watcher.unwatch(gone)
      if (added.length > 0) watcher.add(added)
      for (const d of gone) watched.delete(d)
      for (const d of added) watched.add(d)
    },
    close: async () => await watcher.close()
  }
}
