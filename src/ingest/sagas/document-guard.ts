// The single-writer rule as the sagas use it (docs/documents.md "Many sagas on one document").
// A saga's PostgreSQL writes take the document (document_locks) with its first write and give it
// back with its last one; every other saga's writes to that document are refused meanwhile
// (STORE_BUSY). So for one saga S on document D:
//  - while S holds D, nobody else writes or commits D: what S removes can only be S's own work,
//    unless it is the version committed before S began (checked: never removed);
//  - S loses D only by releasing it itself, in its last action. So when S finds D held by another
//    saga, S has either never held it (and applied nothing to D: every derived write of S comes
//    after S took D) or has already finished with it (its last action applied). Either way, a
//    compensation or a re-run of the last step has nothing left to do.
import type { DocumentRow, StoreSet, WriteContext } from '../../stores/types.js';
import { errorCode } from '../../lib/errors.js';

export type Held = { held: true; row: DocumentRow | undefined } | { held: false };

export function isBusy(err: unknown): boolean {
  return errorCode(err) === 'STORE_BUSY';
}

/** The saga a STORE_BUSY refusal names as the holder (the PostgreSQL adapters name it). */
export function busyHolder(err: unknown): string | undefined {
  if (!isBusy(err)) return undefined;
  const holder = (err as { holder?: unknown }).holder;
  return typeof holder === 'string' && holder !== '' ? holder : undefined;
}

/** Takes or confirms D for this saga; `held: false` when another saga holds it (see above). */
export async function holdOrSkip(stores: StoreSet, docId: string, w: WriteContext): Promise<Held> {
  try {
    return { held: true, row: await stores.postgres.acquire(docId, w) };
  } catch (err) {
    if (isBusy(err)) return { held: false };
    throw err;
  }
}

/**
 * Removes version `sha` of D from derived stores as a compensation: only while this saga holds D,
 * and never the version committed in PostgreSQL (another saga's, or the same content re-ingested).
 */
export async function removeOwnVersion(
  stores: StoreSet,
  docId: string,
  sha: string,
  w: WriteContext,
  remove: () => Promise<void>,
): Promise<void> {
  const h = await holdOrSkip(stores, docId, w);
  if (!h.held) return;
  if (h.row?.contentSha256 === sha) return;
  await remove();
}

/** Runs a compensation's PostgreSQL write; STORE_BUSY means nothing of ours is left there. */
export async function unlessBusy(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
}
