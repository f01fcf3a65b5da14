import { Ajv } from 'ajv'
import t from 'tap'
import { ROUTE_FILE_SCHEMA } from '../src/config/route-file-schema.js'

/**
 * parse-route-file.ts compiles the route-file schema without checking it
 * against the JSON Schema meta-schema, which cost a start about 60 ms
 * (issue #14). This is where that check still runs, on every test run.
 */

t.test('the route-file schema is a valid JSON Schema under the meta-schema that parse-route-file.ts skips at run time', async (t) => {
  const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true })
  const valid = ajv.validateSchema(ROUTE_FILE_SCHEMA)
  t.same(ajv.errors ?? [], [], 'no meta-schema errors')
  t.equal(valid, true)
})

t.test('the meta-schema check can fail: a keyword with a value of the wrong type is refused', async (t) => {
  const ajv = new Ajv({ strict: true, validateSchema: true })
  t.equal(ajv.validateSchema({ type: 'object', properties: { prefix: { type: 'string', minLength: 'one' } } }), false)
})
