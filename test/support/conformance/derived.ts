// Shared helpers for the derived-store suites (graph, vector, cache): paging and cleanup by prefix.

interface Listable {
  listDocIds(afterId: string | null, limit: number): Promise<string[]>;
}

/** All doc ids starting with `prefix`, walking the store's paged listing from the prefix on. */
export async function idsWithPrefix(store: Listable, prefix: string): Promise<string[]> {
  const found: string[] = [];
  // Paging is exclusive of the cursor: start just before the prefix so an id equal to it is listed.
  let cursor: string | null = prefix.slice(0, -1);
  for (;;) {
    const page = await store.listDocIds(cursor, 50);
    const mine = page.filter((d) => d.startsWith(prefix));
    found.push(...mine);
    if (page.length < 50 || mine.length < page.length) return found;
    cursor = page[page.length - 1] ?? null;
  }
}

/** Removes every document of this run (ids share the run prefix) and checks none is left. */
export async function cleanupPrefix(store: Listable, prefix: string, remove: (docId: string) => Promise<void>): Promise<string[]> {
  for (const docId of await idsWithPrefix(store, prefix)) await remove(docId);
  return idsWithPrefix(store, prefix);
}
