import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'

/** Debian's chromium: the browser tests never download one. */
export const CHROMIUM = '/usr/bin/chromium'

/** tap's `skip` for a machine without it. */
export const NO_CHROMIUM: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium); .ci/run installs it`

interface Teardown { teardown (fn: () => unknown): void }

/**
 * Headless Chromium with no sandbox, GPU, QUIC or background traffic, closed
 * when the test ends. `extraArgs`: e.g. `--ignore-certificate-errors` for a
 * self-signed router (issue #13).
 */
export async function launchChromium (t: Teardown, extraArgs: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs]
  })
  t.teardown(() => browser.close())
  return browser
}
