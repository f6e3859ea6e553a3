import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { recordTable } from '../table.js'

/** `pgqrs install` and `pgqrs verify`. */
export function registerInstall(program: Command, ctx: CliContext): void {
  program
    .command('install')
    .description('create or upgrade the pgqrs schema (idempotent, safe to run concurrently)')
    .action((_opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, 'installing the pgqrs schema', async (store) => {
        await admin(store).install()
        const migrations = await store.migrations()
        const result = {
          installed: true,
          backend: store.backend,
          ...(store.backend === 'postgres' ? { schema: store.config.schema } : {}),
          schemaVersion: migrations.at(-1) ?? null,
          migrations,
        }
        return {
          json: result,
          table: () => recordTable({ ...result, migrations: migrations.join(', ') }),
        }
      }),
    )

  program
    .command('verify')
    .description(
      'check that the database answers and its schema is the version this pgqrs expects (exit 1 if not)',
    )
    .action((_opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, 'verifying the pgqrs schema', async (store) => {
        const result = await admin(store).verify()
        return {
          json: result,
          table: () =>
            recordTable({
              ok: result.ok,
              schema: result.schema?.state ?? 'unknown',
              installed: result.schema?.installed ?? null,
              expected: result.schema?.expected ?? null,
              migrations: result.migrations.join(', '),
              problems: result.problems.join('; '),
            }),
          ...(result.ok ? {} : { failure: `verify failed: ${result.problems.join('; ')}` }),
        }
      }),
    )
}
