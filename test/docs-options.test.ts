import { readFileSync } from 'node:fs'
import t from 'tap'
import { helpText } from '../src/cli/help-text.js'
import { OPTIONS, type OptionSpec } from '../src/cli/option-table.js'

/**
 * The README's flag table is written by hand; OPTIONS is what the parser and
 * --help use. This test keeps the two from drifting apart in either direction.
 */

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const HEADER = /^\|\s*Flag\s*\|\s*Env\s*\|\s*Default\s*\|\s*Meaning\s*\|\s*$/
const SEPARATOR = /^\|(?:\s*:?-+:?\s*\|)+\s*$/
const FLAG = /--[a-z][a-z0-9-]*/g
const ENV_VAR = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g

interface TableRow {
  readonly line: number
  readonly flagCell: string
  readonly envCell: string
  readonly defaultCell: string
}

/** Cells of a markdown table row, split on unescaped pipes, backticks removed. */
function cells (line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  return inner.split(/(?<!\\)\|/).map((c) => c.replace(/`/g, '').trim())
}

function flagTables (markdown: string): TableRow[][] {
  const lines = markdown.split('\n')
  const tables: TableRow[][] = []
  for (let i = 0; i < lines.length; i++) {
    if (!HEADER.test(lines[i] as string)) continue
    const rows: TableRow[] = []
    let j = i + 1
    if (SEPARATOR.test(lines[j] ?? '')) j++
    for (; j < lines.length && (lines[j] as string).trim().startsWith('|'); j++) {
      const [flagCell = '', envCell = '', defaultCell = ''] = cells(lines[j] as string)
      rows.push({ line: j + 1, flagCell, envCell, defaultCell })
    }
    tables.push(rows)
  }
  return tables
}

function flagUsage (o: OptionSpec): string {
  return o.value === null ? `--${o.flag}` : `--${o.flag} ${o.value}`
}

function mentionsFlag (text: string, flag: string): boolean {
  return new RegExp(`--${flag}(?![a-z0-9-])`).test(text)
}

const tables = flagTables(README)

t.test('the README has exactly one Flag | Env | Default | Meaning table', async (t) => {
  t.equal(tables.length, 1, 'one flag table')
  t.ok((tables[0] ?? []).length > 0, 'with rows')
})

const rows = tables[0] ?? []
const rowByFlag = new Map<string, TableRow>()
for (const row of rows) {
  const flags: readonly string[] = row.flagCell.match(FLAG) ?? []
  if (flags.length === 1) rowByFlag.set((flags[0] as string).slice(2), row)
}

t.test('every table row names exactly one flag, once', async (t) => {
  const seen = new Set<string>()
  for (const row of rows) {
    const flags: readonly string[] = row.flagCell.match(FLAG) ?? []
    t.equal(flags.length, 1, `README.md:${row.line} names one --flag in its Flag column`)
    const flag = flags[0]
    if (flag === undefined) continue
    t.notOk(seen.has(flag), `README.md:${row.line}: ${flag} appears only once`)
    seen.add(flag)
  }
})

t.test('every OPTIONS entry is in the table with its value, env vars and default', async (t) => {
  for (const option of OPTIONS) {
    const row = rowByFlag.get(option.flag)
    if (row === undefined) {
      t.fail(`--${option.flag} from src/cli/option-table.ts is missing from the README flag table`)
      continue
    }
    t.equal(row.flagCell, flagUsage(option), `README.md:${row.line} writes the flag as "${flagUsage(option)}"`)
    const documentedEnv: readonly string[] = row.envCell.match(ENV_VAR) ?? []
    for (const env of option.env) {
      t.ok(documentedEnv.includes(env), `README.md:${row.line}: --${option.flag} lists ${env}`)
    }
    for (const env of documentedEnv) {
      t.ok(option.env.includes(env), `README.md:${row.line}: ${env} is an env var of --${option.flag} in OPTIONS`)
    }
    if (option.defaultText !== '') {
      t.ok(row.defaultCell.includes(option.defaultText), `README.md:${row.line}: --${option.flag} default is ${option.defaultText}`)
    }
  }
})

t.test('the table names no flag that OPTIONS does not have', async (t) => {
  const known = new Set(OPTIONS.map((o) => o.flag))
  for (const [flag, row] of rowByFlag) {
    t.ok(known.has(flag), `README.md:${row.line}: --${flag} exists in src/cli/option-table.ts`)
  }
})

t.test('--help mentions every flag and env var', async (t) => {
  const help = helpText('0.0.0-test')
  for (const option of OPTIONS) {
    t.ok(mentionsFlag(help, option.flag), `--help mentions --${option.flag}`)
    for (const env of option.env) t.ok(help.includes(env), `--help mentions ${env}`)
  }
})
