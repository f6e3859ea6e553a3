import { execFileSync } from 'node:child_process'
import os from 'node:os'
import type pg from 'pg'
import { loadSystem } from './systems/system.ts'
import type { SystemName } from './types.ts'
import { packageDir, packageVersion } from './util.ts'

/** What the report says about the machine, the server and the software. */
export interface MachineInfo {
  readonly cpu: string
  readonly cores: number
  readonly ramGb: number
  readonly os: string
  readonly node: string
  readonly loadAtStart: readonly number[]
  readonly postgres: Readonly<Record<string, string>>
  readonly versions: Readonly<Record<string, string>>
  readonly pgqrsCommit: string
}

const SETTINGS = [
  'server_version',
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_level',
  'commit_delay',
  'shared_buffers',
  'max_connections',
  'autovacuum',
] as const

function gitCommit(root: string): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
      .toString()
      .trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: root })
      .toString()
      .trim()
    return dirty ? `${rev} + uncommitted changes in packages/` : rev
  } catch {
    return 'unknown'
  }
}

export async function machineInfo(client: pg.Client, root: string): Promise<MachineInfo> {
  const postgres: Record<string, string> = {}
  for (const name of SETTINGS) {
    const r = await client.query<{ v: string }>(`select current_setting($1) as v`, [name])
    postgres[name] = r.rows[0]!.v
  }
  const versions: Record<string, string> = {}
  for (const name of ['pgqrs', 'pg-boss', 'graphile-worker'] as SystemName[]) {
    versions[name] = await (await loadSystem(name)).version()
  }
  versions.pg = packageVersion('pg', packageDir('@pgqrs/store-postgres'))
  versions.kysely = packageVersion('kysely', packageDir('@pgqrs/store-postgres'))
  versions['better-sqlite3'] = packageVersion('better-sqlite3', packageDir('@pgqrs/store-sqlite'))
  versions['@libsql/client'] = packageVersion('@libsql/client', packageDir('@pgqrs/store-turso'))
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    ramGb: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAtStart: os.loadavg(),
    postgres,
    versions,
    pgqrsCommit: gitCommit(root),
  }
}
