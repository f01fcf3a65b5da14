import { ROUTE_FILE_SCHEMA } from './route-file-schema.js'

interface PropertySchema {
  readonly type?: string | readonly string[]
  readonly format?: string
  readonly description?: string
  readonly default?: unknown
  readonly properties?: Readonly<Record<string, PropertySchema>>
  readonly items?: PropertySchema
  readonly minimum?: number
}

function typeOf (schema: PropertySchema): string {
  if (schema.format === 'duration') return 'duration'
  if (Array.isArray(schema.type)) return (schema.type as readonly string[]).join(' or ')
  if (schema.type === 'array') return `list of ${schema.items?.type ?? 'values'}`
  if (schema.type === 'object' && schema.properties === undefined) return 'map of string'
  return (schema.type as string | undefined) ?? 'any'
}

function cell (text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function rows (properties: Readonly<Record<string, PropertySchema>>, path: string): string[] {
  const out: string[] = []
  for (const [name, schema] of Object.entries(properties)) {
    const field = path === '' ? name : `${path}.${name}`
    const required = name === 'prefix' && path === '' ? 'yes' : 'no'
    const def = schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``
    out.push(`| \`${field}\` | ${typeOf(schema)} | ${required} | ${def} | ${cell(schema.description ?? '')} |`)
    if (schema.properties !== undefined) out.push(...rows(schema.properties, field))
  }
  return out
}

/**
 * docs/services.d.md, generated from the JSON Schema so the reference cannot
 * drift: `npm run docs:services` writes it, test/docs-services.test.ts checks it.
 */
export function renderServicesDoc (): string {
  const route = ROUTE_FILE_SCHEMA.properties.routes.items.properties as unknown as Record<string, PropertySchema>
  return [
    '# services.d reference',
    '',
    '<!-- Generated from src/config/route-file-schema.ts by `npm run docs:services`. Do not edit by hand. -->',
    '',
    'Every `*.yaml`, `*.yml` and `*.json` file in the services directory (`--services-dir`) is read in file-name order. Each holds `routes:`, a list of routes with these fields. Unknown keys are errors. An empty file declares no routes.',
    '',
    '| Field | Type | Required | Default | Meaning |',
    '|-------|------|----------|---------|---------|',
    ...rows(route, ''),
    '',
    'Exactly one of `socket` and `url` is required.',
    ''
  ].join('\n')
}
