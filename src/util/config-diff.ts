/** Comparing a saved run config with the one a resume would use. */

/**
 * The keys of `current` whose values differ from `saved` (compared as JSON), in
 * `current`'s order, leaving out `ignore` (settings a resume may change). Used to refuse
 * resuming a run folder with other settings than it was started with.
 */
export function changedKeys(saved: Readonly<Record<string, unknown>>, current: Readonly<Record<string, unknown>>, ignore: readonly string[] = []): string[] {
  return Object.keys(current).filter((k) => !ignore.includes(k) && JSON.stringify(saved[k]) !== JSON.stringify(current[k]));
}
