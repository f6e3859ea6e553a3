/** Each section writes its figures to `.results/<section>.json`; the report is built from them. */
import fs from 'node:fs'
import path from 'node:path'
import { RESULTS_DIR } from './settings.ts'

export type SectionName =
  | 'kill-trials'
  | 'db-restart'
  | 'connection-faults'
  | 'silence'
  | 'sqlite-contention'
  | 'pgbouncer'
  | 'hostile-input'
  | 'hostile-values'

export interface SectionResult {
  readonly section: SectionName
  /** Violations found (each one also failed a test). */
  readonly violations: string[]
  readonly finishedAt: string
  readonly durationMs: number
  readonly data: Record<string, any>
}

export function writeSection(result: Omit<SectionResult, 'finishedAt'>): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  const full: SectionResult = { ...result, finishedAt: new Date().toISOString() }
  fs.writeFileSync(
    path.join(RESULTS_DIR, `${result.section}.json`),
    `${JSON.stringify(full, null, 2)}\n`,
  )
}

/** The sections written since `sinceMs`. */
export function readSections(sinceMs: number): SectionResult[] {
  if (!fs.existsSync(RESULTS_DIR)) return []
  const out: SectionResult[] = []
  for (const f of fs.readdirSync(RESULTS_DIR)) {
    if (!f.endsWith('.json') || f === 'run.json') continue
    const p = path.join(RESULTS_DIR, f)
    if (fs.statSync(p).mtimeMs < sinceMs) continue
    try {
      out.push(JSON.parse(fs.readFileSync(p, 'utf8')) as SectionResult)
    } catch {
      // a section that was being written when the run was interrupted
    }
  }
  return out
}
