let writes = 0

/**
 * Notes that a store write started in this process. Stores call it once per write operation; the
 * workflow engine compares counts to learn whether anything (an in-process `cancelRun` through a
 * synchronous driver, say) may have changed a run since it last looked. @internal
 */
export function noteStoreWrite(): void {
  writes++
}

/** Store writes started in this process so far (see {@link noteStoreWrite}). @internal */
export function storeWriteCount(): number {
  return writes
}
