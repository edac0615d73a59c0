// Collection management and aliases on Qdrant (issue 25, docs/stores.md "Collections and aliases"):
// the reindex creates a collection beside the live one and the switch moves an alias in one
// POST /collections/aliases (Qdrant applies its actions under one lock: no read sees the alias
// missing between the delete_alias and the create_alias).
//
// What Qdrant does and we rely on: every collection endpoint resolves an alias name to its
// collection; an alias cannot share a collection's name (409); deleting a collection deletes its
// aliases. dropCollection refuses while an alias points at the collection; between its check and
// its DELETE another process can still set an alias, which the DELETE then removes with the
// collection (Qdrant has no conditional delete).
import type { QdrantClient } from '@qdrant/js-client-rest';
import type { Schemas } from '@qdrant/js-client-rest';
import { checkCollectionName, checkDimension } from '../collection-names.js';
import { StoreError } from '../errors.js';
import { layoutParams, type QdrantLayout } from './layout.js';

/** Runs one client call with the adapter's timeout and error classification. */
export type QdrantCall = <T>(what: string, work: () => Promise<T>) => Promise<T>;

/** The payload fields every collection of ours is indexed on (reads filter on them). */
export const INDEXED_FIELDS = ['doc_id', 'content_sha256'] as const;

export interface CollectionInfo {
  name: string;
  dimension: number;
  points: number;
}

function httpStatus(err: unknown): number | undefined {
  const m = err instanceof Error ? /\(HTTP (\d{3})\)/.exec(err.message) : null;
  return m?.[1] ? Number(m[1]) : undefined;
}

/** The vector size of a collection's config: the unnamed vector, else the first named one. */
function dimensionOf(info: Schemas['CollectionInfo']): number {
  const vectors = info.config.params.vectors as unknown;
  if (typeof vectors !== 'object' || vectors === null) return 0;
  if (typeof (vectors as { size?: unknown }).size === 'number') return (vectors as { size: number }).size;
  const first = Object.values(vectors as Record<string, { size?: unknown }>)[0];
  return typeof first?.size === 'number' ? first.size : 0;
}

export class QdrantCollections {
  constructor(
    private readonly client: QdrantClient,
    private readonly call: QdrantCall,
    private readonly layout: QdrantLayout,
  ) {}

  async listAliases(): Promise<Array<{ alias: string; collection: string }>> {
    const res = await this.call('listAliases', () => this.client.getAliases());
    return res.aliases
      .map((a) => ({ alias: a.alias_name, collection: a.collection_name }))
      .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  }

  async isAlias(name: string): Promise<boolean> {
    return (await this.listAliases()).some((a) => a.alias === name);
  }

  private async collectionNames(what: string): Promise<string[]> {
    const res = await this.call(what, () => this.client.getCollections());
    return res.collections.map((c) => c.name).sort();
  }

  private async dimensionOfExisting(what: string, name: string): Promise<number> {
    return dimensionOf(await this.call(what, () => this.client.getCollection(name)));
  }

  /** The payload indexes our reads filter on (idempotent on Qdrant). */
  async indexFields(what: string, name: string): Promise<void> {
    for (const field of INDEXED_FIELDS) {
      await this.call(what, () => this.client.createPayloadIndex(name, { field_name: field, field_schema: 'keyword', wait: true }));
    }
  }

  async ensureCollection(name: string, dimension: number): Promise<void> {
    const what = 'ensureCollection';
    checkCollectionName(what, 'name', name);
    checkDimension(what, dimension);
    if (await this.isAlias(name)) {
      throw new StoreError('qdrant', 'STORE_CONFLICT', `${what}: ${name} is an alias, not a collection`, { retryable: false });
    }
    const exists = (await this.collectionNames(what)).includes(name);
    if (!exists) {
      try {
        await this.call(what, () =>
          this.client.createCollection(name, { vectors: { size: dimension, distance: 'Cosine' }, ...layoutParams(this.layout) }),
        );
      } catch (err) {
        // 409: another process created it between our list and our create; its dimension decides below.
        if (httpStatus(err) !== 409) throw err;
      }
    }
    const actual = await this.dimensionOfExisting(what, name);
    if (actual !== dimension) {
      throw new StoreError('qdrant', 'STORE_CONFLICT', `${what}: collection ${name} exists with dimension ${actual}, not ${dimension}`, {
        retryable: false,
      });
    }
    await this.indexFields(what, name);
  }

  async dropCollection(name: string): Promise<void> {
    const what = 'dropCollection';
    checkCollectionName(what, 'name', name);
    const aliases = await this.listAliases();
    if (aliases.some((a) => a.alias === name)) {
      throw new StoreError('qdrant', 'STORE_CONFLICT', `${what}: ${name} is an alias, not a collection (deleteAlias removes it)`, {
        retryable: false,
      });
    }
    const by = aliases.filter((a) => a.collection === name).map((a) => a.alias);
    if (by.length > 0) {
      throw new StoreError(
        'qdrant',
        'STORE_CONFLICT',
        `${what}: alias ${by.join(', ')} points at collection ${name}; move or delete it first`,
        {
          retryable: false,
        },
      );
    }
    // Qdrant answers `false` for an absent collection: nothing to do, as the interface says.
    await this.call(what, () => this.client.deleteCollection(name));
  }

  async listCollections(): Promise<CollectionInfo[]> {
    const out: CollectionInfo[] = [];
    for (const name of await this.collectionNames('listCollections')) {
      try {
        const info = await this.call('listCollections', () => this.client.getCollection(name));
        out.push({ name, dimension: dimensionOf(info), points: info.points_count ?? 0 });
      } catch (err) {
        if (httpStatus(err) !== 404) throw err; // dropped between the list and this read
      }
    }
    return out;
  }

  async setAlias(alias: string, collection: string): Promise<void> {
    const what = 'setAlias';
    checkCollectionName(what, 'alias', alias);
    checkCollectionName(what, 'collection', collection);
    // Checked first: Qdrant applies the actions one by one, so a create_alias that fails (no such
    // collection) would leave the delete_alias applied and the alias gone.
    const names = await this.collectionNames(what);
    if (!names.includes(collection)) {
      throw new StoreError('qdrant', 'STORE_PERMANENT', `${what}: collection ${collection} does not exist`, { retryable: false });
    }
    if (names.includes(alias)) {
      throw new StoreError('qdrant', 'STORE_CONFLICT', `${what}: ${alias} is a collection; an alias cannot take its name`, {
        retryable: false,
      });
    }
    try {
      await this.call(what, () =>
        this.client.updateCollectionAliases({
          actions: [{ delete_alias: { alias_name: alias } }, { create_alias: { alias_name: alias, collection_name: collection } }],
        }),
      );
    } catch (err) {
      if (httpStatus(err) === 409 && err instanceof StoreError) {
        throw new StoreError('qdrant', 'STORE_CONFLICT', err.message.replace(/^qdrant: /, ''), { cause: err, retryable: false });
      }
      throw err;
    }
  }

  async deleteAlias(alias: string): Promise<void> {
    checkCollectionName('deleteAlias', 'alias', alias);
    // Qdrant's delete_alias of an absent alias succeeds: a no-op, as the interface says.
    await this.call('deleteAlias', () => this.client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: alias } }] }));
  }
}
