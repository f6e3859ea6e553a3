import { describe, expect, it } from 'vitest'
import {
  bearerValid,
  csrfToken,
  csrfValid,
  redact,
  safeBack,
  sessionValid,
  sessionValue,
} from '../dist/security.js'

const secret = Buffer.from('0123456789abcdef0123456789abcdef')
const other = Buffer.from('fedcba9876543210fedcba9876543210')

describe('redact', () => {
  it('cuts passwords out of URLs and tokens out of query strings', () => {
    expect(redact('connect failed: postgres://app:s3cret@db:5432/x')).toBe(
      'connect failed: postgres://app:***@db:5432/x',
    )
    expect(redact('libsql://db.turso.io?authToken=eyJhbGc.x.y&tls=1')).toBe(
      'libsql://db.turso.io?authToken=***&tls=1',
    )
    expect(redact('postgres://app@db/x is fine')).toBe('postgres://app@db/x is fine')
  })
})

describe('safeBack', () => {
  it('keeps paths of the dashboard and refuses everything else', () => {
    expect(safeBack('/ops', '/ops/queues/a?state=dead', '/ops/')).toBe('/ops/queues/a?state=dead')
    expect(safeBack('/ops', '/ops', '/ops/')).toBe('/ops')
    for (const bad of [
      'https://evil.example/',
      '//evil.example/ops/',
      '/opsx/',
      '/other',
      '',
      7,
      '/ops/\\evil',
      '/ops/\r\nSet-Cookie: x',
    ]) {
      expect(safeBack('/ops', bad, '/ops/'), String(bad)).toBe('/ops/')
    }
    expect(safeBack('', '/queues/a', '/')).toBe('/queues/a')
    expect(safeBack('', '//evil.example', '/')).toBe('/')
  })
})

describe('CSRF and session tokens', () => {
  it('a CSRF token is valid only for its cookie and secret', () => {
    const t = csrfToken(secret, 'cookie-a')
    expect(csrfValid(secret, 'cookie-a', t)).toBe(true)
    expect(csrfValid(secret, 'cookie-b', t)).toBe(false)
    expect(csrfValid(other, 'cookie-a', t)).toBe(false)
    expect(csrfValid(secret, undefined, t)).toBe(false)
    expect(csrfValid(secret, 'cookie-a', undefined)).toBe(false)
  })

  it('a session is valid for its token until it expires, and does not contain the token', () => {
    const v = sessionValue(secret, 'tok', Date.now() + 60_000)
    expect(v).not.toContain('tok')
    expect(sessionValid(secret, 'tok', v)).toBe(true)
    expect(sessionValid(secret, 'other', v)).toBe(false)
    expect(sessionValid(other, 'tok', v)).toBe(false)
    expect(sessionValid(secret, 'tok', sessionValue(secret, 'tok', Date.now() - 1))).toBe(false)
    const [, sig] = v.split('.')
    expect(sessionValid(secret, 'tok', `${Date.now() + 10 ** 9}.${sig}`)).toBe(false) // extended
    expect(sessionValid(secret, 'tok', 'garbage')).toBe(false)
  })

  it('Bearer accepts exactly the token', () => {
    expect(bearerValid('a b', 'Bearer a b')).toBe(true)
    expect(bearerValid('tok', 'bearer tok')).toBe(true)
    expect(bearerValid('tok', 'Bearer tok2')).toBe(false)
    expect(bearerValid('tok', 'Basic dG9r')).toBe(false)
    expect(bearerValid('tok', undefined)).toBe(false)
  })
})
