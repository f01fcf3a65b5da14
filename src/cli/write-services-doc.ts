import { writeFileSync } from 'node:fs'
import { renderServicesDoc } from '../config/render-services-doc.js'

// `npm run docs:services`: regenerates docs/services.d.md from the schema.
writeFileSync(new URL('../../docs/services.d.md', import.meta.url), renderServicesDoc())
