/**
 * A loopback TCP proxy between the workers and PostgreSQL that injects connection faults into the
 * connections going through it (and only those): drop every connection, delay every chunk, refuse
 * new connections, black-hole new connections (accepted, never answered), freeze existing ones,
 * silence existing ones (they stop answering and are never reset: a half-open peer).
 */
import net from 'node:net'

export interface ProxyStats {
  connections: number
  drops: number
  dropped: number
  refused: number
  blackholed: number
  frozen: number
  silenced: number
  delayed: number
}

interface Pair {
  readonly client: net.Socket
  upstream: net.Socket | null
  frozen: boolean
  /** Nothing is forwarded either way and nothing is reset (see {@link FaultProxy.silenceAll}). */
  silent: boolean
  readonly held: { to: 'up' | 'down'; chunk: Buffer }[]
  /** The armed fault whose `match` this connection sent (it waits for `followedBy`). */
  matchedBy: ArmedFault | null
  /** The next chunk from the server is the answer to lose. */
  loseReply: boolean
}

/**
 * A one-shot fault on the first connection that sends a chunk containing `match` (then, when
 * given, a later chunk containing `followedBy` on the same connection):
 * - `reset`: that chunk never reaches the server; the connection is reset;
 * - `lose-reply`: that chunk reaches the server, and once the server answers (it has executed
 *   it: for a COMMIT, the transaction committed) the answer is dropped and the connection reset,
 *   so the client sees a lost connection for a statement that took effect.
 */
export interface ArmedFault {
  readonly match: string
  readonly followedBy?: string
  readonly action: 'reset' | 'lose-reply'
}

export class FaultProxy {
  readonly stats: ProxyStats = {
    connections: 0,
    drops: 0,
    dropped: 0,
    refused: 0,
    blackholed: 0,
    frozen: 0,
    silenced: 0,
    delayed: 0,
  }
  /** Added to every chunk in both directions while > 0. */
  delayMs = 0
  /** What happens to new connections. */
  accept: 'pass' | 'refuse' | 'blackhole' = 'pass'
  readonly #server: net.Server
  readonly #pairs = new Set<Pair>()
  readonly #holes = new Set<net.Socket>()
  readonly #upstream: { host: string; port: number }
  #armed: { fault: ArmedFault; fired: () => void } | null = null

  constructor(upstream: { host: string; port: number }) {
    this.#upstream = upstream
    this.#server = net.createServer((client) => this.#onClient(client))
  }

  /** Listens on 127.0.0.1 and a free port; resolves to the port. */
  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () =>
        resolve((this.#server.address() as net.AddressInfo).port),
      )
    })
  }

  #onClient(client: net.Socket): void {
    client.on('error', () => {})
    this.stats.connections++
    if (this.accept === 'refuse') {
      this.stats.refused++
      client.resetAndDestroy()
      return
    }
    if (this.accept === 'blackhole') {
      this.stats.blackholed++
      this.#holes.add(client)
      client.on('close', () => this.#holes.delete(client))
      return
    }
    const pair: Pair = {
      client,
      upstream: null,
      frozen: false,
      silent: false,
      held: [],
      matchedBy: null,
      loseReply: false,
    }
    const upstream = net.connect(this.#upstream.port, this.#upstream.host)
    pair.upstream = upstream
    upstream.on('error', () => {})
    this.#pairs.add(pair)
    let chainUp = Promise.resolve()
    let chainDown = Promise.resolve()
    const forward = (to: 'up' | 'down', chunk: Buffer) => {
      if (pair.silent) return
      if (this.#trip(pair, to, chunk)) return
      if (pair.frozen) {
        pair.held.push({ to, chunk })
        return
      }
      const dst = to === 'up' ? upstream : client
      const delay = this.delayMs
      if (delay <= 0) {
        if (!dst.destroyed) dst.write(chunk)
        return
      }
      this.stats.delayed++
      const step = () =>
        new Promise<void>((res) =>
          setTimeout(() => {
            if (!dst.destroyed) dst.write(chunk)
            res()
          }, delay),
        )
      if (to === 'up') chainUp = chainUp.then(step)
      else chainDown = chainDown.then(step)
    }
    client.on('data', (c) => forward('up', c))
    upstream.on('data', (c) => forward('down', c))
    const close = () => {
      client.destroy()
      upstream.destroy()
      this.#pairs.delete(pair)
    }
    client.on('close', close)
    upstream.on('close', close)
  }

  /**
   * Arms a one-shot {@link ArmedFault}; resolves once it has fired. Only new chunks count: arm it
   * before the statement is sent.
   */
  arm(fault: ArmedFault): Promise<void> {
    return new Promise((fired) => {
      this.#armed = { fault, fired }
    })
  }

  /** Applies the armed fault to a chunk; true when the chunk was swallowed. */
  #trip(pair: Pair, to: 'up' | 'down', chunk: Buffer): boolean {
    const armed = this.#armed
    if (!armed) return false
    const reset = () => {
      this.#armed = null
      pair.client.resetAndDestroy()
      pair.upstream?.destroy()
      this.#pairs.delete(pair)
      armed.fired()
      return true
    }
    if (to === 'down') return pair.loseReply ? reset() : false
    const text = chunk.toString('latin1')
    const { match, followedBy, action } = armed.fault
    if (pair.matchedBy !== armed.fault && text.includes(match)) {
      pair.matchedBy = armed.fault
      if (followedBy !== undefined) return false
    } else if (
      !(pair.matchedBy === armed.fault && followedBy !== undefined && text.includes(followedBy))
    )
      return false
    if (action === 'reset') return reset()
    pair.loseReply = true // forwarded; the next chunk from the server is its answer
    return false
  }

  /** Resets every connection going through the proxy now. */
  dropAll(): number {
    this.stats.drops++
    let n = 0
    for (const p of [...this.#pairs]) {
      n++
      p.client.resetAndDestroy()
      p.upstream?.destroy()
      this.#pairs.delete(p)
    }
    this.stats.dropped += n
    return n
  }

  /** Stops forwarding on every current connection for `ms` (a stall), then drops them. */
  freezeAll(ms: number): void {
    const frozen = [...this.#pairs]
    for (const p of frozen) p.frozen = true
    this.stats.frozen += frozen.length
    setTimeout(() => {
      for (const p of frozen) {
        p.client.resetAndDestroy()
        p.upstream?.destroy()
        this.#pairs.delete(p)
      }
    }, ms).unref()
  }

  /**
   * Every current connection stops answering, for good: chunks either way are swallowed and
   * neither end is reset, as when a peer vanishes without a FIN or RST. Only the client can end
   * such a connection (its own timeout); `close()` ends whatever is left. Returns how many.
   */
  silenceAll(): number {
    const now = [...this.#pairs].filter((p) => !p.silent)
    for (const p of now) p.silent = true
    this.stats.silenced += now.length
    return now.length
  }

  /** Ends the black-holed connections (they time out on the client side before this, usually). */
  releaseHoles(): void {
    for (const s of this.#holes) s.destroy()
    this.#holes.clear()
  }

  get open(): number {
    return this.#pairs.size
  }

  async close(): Promise<void> {
    this.dropAll()
    this.releaseHoles()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
