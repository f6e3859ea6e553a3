/** Child: runs `store.migrate()` when told to go and reports the applied migrations. */
import { runChild, send } from './child-runtime.js'

await runChild(async (store) => {
  await store.migrate()
  await send({ type: 'migrated', migrations: await store.migrations() })
})
