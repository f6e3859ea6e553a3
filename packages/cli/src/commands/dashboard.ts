import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { parsePort } from '../parsers.js'

interface DashboardOptions {
  readonly port: number
  readonly host: string
  readonly readOnly?: boolean
  readonly basePath?: string
}

/** Listens on `host:port`; a port in use or a bad host is an error that says which. */
function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'EADDRINUSE' ? 'the port is in use (pass another with --port)' : e.message
      reject(new Error(`cannot listen on ${host}:${port}: ${why}`))
    }
    server.once('error', fail)
    server.listen(port, host, () => {
      server.off('error', fail)
      resolve(server.address() as AddressInfo)
    })
  })
}

/** `http://host:port/base/`, with IPv6 hosts in brackets. */
function dashboardUrl(address: AddressInfo, basePath: string): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}${basePath}/`
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** `pgqrs dashboard [--port 8080] [--host 127.0.0.1] [--read-only] [--base-path /p]`. */
export function registerDashboard(program: Command, ctx: CliContext): void {
  program
    .command('dashboard')
    .description('serve the web dashboard (queues, messages, runs, workers) until interrupted')
    .option('--port <n>', 'TCP port (0 picks a free one)', parsePort, 8080)
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--read-only', 'hide every action and refuse it (403)')
    .option('--base-path <path>', 'serve under this path prefix, e.g. /pgqrs (behind a proxy)')
    .addHelpText(
      'after',
      '\nEnvironment: PGQRS_DASHBOARD_TOKEN, when set, is required to open the dashboard (login form\n' +
        'or Authorization: Bearer). Stop it with Ctrl-C (SIGINT) or SIGTERM.',
    )
    .action((opts: DashboardOptions, cmd: Command) =>
      ctx.withStore(cmd, 'starting the dashboard', async (store, progress) => {
        const token = (ctx.io.env ?? process.env).PGQRS_DASHBOARD_TOKEN || undefined
        // loaded here, not at start-up: every other command starts faster without it
        const { createDashboard } = await import('@pgqrs/dashboard')
        const dashboard = createDashboard({
          store,
          readOnly: opts.readOnly === true,
          ...(token ? { token } : {}),
          ...(opts.basePath ? { basePath: opts.basePath } : {}),
        })
        const server = createServer(dashboard.node)
        try {
          const address = await listen(server, opts.port, opts.host)
          progress.stop()
          const url = dashboardUrl(address, dashboard.config.basePath)
          const notes = [opts.readOnly ? 'read-only' : '', token ? 'token required' : ''].filter(
            Boolean,
          )
          ctx.io.stdout(
            `pgqrs dashboard on ${url}${notes.length ? ` (${notes.join(', ')})` : ''}\n`,
          )
          if (!token && !LOOPBACK.has(opts.host)) {
            ctx.io.stderr(
              `pgqrs: warning: the dashboard listens on ${opts.host} without PGQRS_DASHBOARD_TOKEN: anyone who reaches it can ${opts.readOnly ? 'read' : 'change'} your queues\n`,
            )
          }
          await ctx.untilStopped()
          return { json: { url, stopped: true }, table: () => 'dashboard stopped' }
        } finally {
          server.closeAllConnections()
          await new Promise((resolve) => server.close(resolve))
          dashboard.close()
        }
      }),
    )
}
