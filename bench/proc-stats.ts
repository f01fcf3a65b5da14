import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/**
 * What a target costs, read from /proc so every figure is the target's own:
 * its RSS, its open fds and its CPU time. nginx is a master and workers, so
 * every reader takes a list of pids and sums.
 */

let clockTicks: number | null = null

/** USER_HZ; /proc/<pid>/stat counts CPU time in these. */
function ticksPerSecond (): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** Fields after the `(comm)` of /proc/<pid>/stat; comm may hold spaces and parens. */
function statFields (pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return text.slice(text.lastIndexOf(')') + 2).split(' ')
}

/** User + system CPU seconds used so far by these processes. */
export function cpuSeconds (pids: readonly number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const f = statFields(pid)
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after comm.
    ticks += Number(f[11]) + Number(f[12])
  }
  return ticks / ticksPerSecond()
}

/** Resident set size in KiB (VmRSS), summed. */
export function rssKiB (pids: readonly number[]): number {
  let total = 0
  for (const pid of pids) {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    total += match === null ? 0 : Number(match[1])
  }
  return total
}

/** Open file descriptors, summed. */
export function openFds (pids: readonly number[]): number {
  let total = 0
  for (const pid of pids) total += readdirSync(`/proc/${pid}/fd`).length
  return total
}

/** Direct children of `pid` (nginx's workers), found by scanning /proc for their parent pid. */
export function childPids (pid: number): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (Number(statFields(Number(entry))[1]) === pid) found.push(Number(entry))
    } catch {
      // The process exited while we looked.
    }
  }
  return found
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Runs `work` and returns the CPU seconds `pids` spent meanwhile (NaN without pids: direct has no process). */
export async function measureCpu<T> (pids: readonly number[], work: () => Promise<T>): Promise<{ result: T, cpu: number }> {
  const before = pids.length > 0 ? cpuSeconds(pids) : Number.NaN
  const result = await work()
  return { result, cpu: pids.length > 0 ? cpuSeconds(pids) - before : Number.NaN }
}

/** CPU seconds the whole machine has been busy (all cores, /proc/stat), for telling our load from others'. */
export function machineBusySeconds (): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? []
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (cpu[i] ?? 0), 0)
  return busy / ticksPerSecond()
}

/** CPU seconds of this process and of every child it has reaped (which includes theirs, e.g. nginx's workers). */
export function ownCpuSeconds (): number {
  const f = statFields(process.pid)
  // utime, stime, cutime, cstime.
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticksPerSecond()
}
