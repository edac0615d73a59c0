// In-memory semantics of one collection for the Qdrant contract stub: points, payload filters,
// scroll paging by point id, and exact cosine scoring. Only what the adapter uses is supported;
// anything else raises StubUnsupported (answered as HTTP 400 and recorded by the stub).

export class StubUnsupported extends Error {}

export type PointId = string | number;
type Payload = Record<string, unknown>;

export interface StubPoint {
  id: PointId;
  vector: number[];
  payload: Payload;
  version: number;
}

interface FieldCondition {
  key?: unknown;
  match?: { value?: unknown; any?: unknown };
  has_id?: unknown;
}

interface Filter {
  must?: unknown;
  should?: unknown;
  must_not?: unknown;
}

const asList = (x: unknown): unknown[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

function matchesCondition(point: StubPoint, raw: unknown): boolean {
  const c = raw as FieldCondition & Filter;
  if (c.must !== undefined || c.should !== undefined || c.must_not !== undefined) return matchesFilter(point, c);
  if (c.has_id !== undefined) return asList(c.has_id).some((id) => id === point.id);
  if (typeof c.key === 'string' && c.match) {
    const value = point.payload[c.key];
    if ('value' in c.match) return value === c.match.value;
    if (Array.isArray(c.match.any)) return c.match.any.includes(value);
  }
  throw new StubUnsupported(`the Qdrant contract stub does not implement the condition ${JSON.stringify(raw)}`);
}

export function matchesFilter(point: StubPoint, filter: Filter | undefined | null): boolean {
  if (!filter) return true;
  const must = asList(filter.must).every((c) => matchesCondition(point, c));
  const should = asList(filter.should);
  const anyShould = should.length === 0 || should.some((c) => matchesCondition(point, c));
  const mustNot = asList(filter.must_not).some((c) => matchesCondition(point, c));
  return must && anyShould && !mustNot;
}

/** Integers sort before UUIDs; UUIDs by their text (lowercase hex compares like their bytes). */
export function compareIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Applies `with_payload` (true/false/list of keys/{include}/{exclude}). */
export function selectPayload(payload: Payload, selector: unknown): Payload | undefined {
  if (selector === undefined || selector === false) return undefined;
  if (selector === true) return { ...payload };
  const pick = (keys: unknown[]): Payload => Object.fromEntries(Object.entries(payload).filter(([k]) => keys.includes(k)));
  if (Array.isArray(selector)) return pick(selector);
  const s = selector as { include?: unknown; exclude?: unknown };
  if (Array.isArray(s.include)) return pick(s.include);
  if (Array.isArray(s.exclude)) {
    const excluded = s.exclude;
    return Object.fromEntries(Object.entries(payload).filter(([k]) => !excluded.includes(k)));
  }
  throw new StubUnsupported(`the Qdrant contract stub does not implement with_payload ${JSON.stringify(selector)}`);
}

function normalized(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

export class StubCollection {
  readonly dimension: number;
  readonly distance: string;
  readonly points = new Map<string, StubPoint>();
  readonly indexedFields = new Set<string>();
  private version = 0;

  constructor(dimension: number, distance: string) {
    if (distance !== 'Cosine') throw new StubUnsupported(`the Qdrant contract stub only implements Cosine, not ${distance}`);
    this.dimension = dimension;
    this.distance = distance;
  }

  /** Qdrant's wording for a wrong vector size, or undefined when all fit. */
  dimensionError(vectors: number[][]): string | undefined {
    const bad = vectors.find((v) => v.length !== this.dimension);
    return bad ? `Wrong input: Vector dimension error: expected dim: ${this.dimension}, got ${bad.length}` : undefined;
  }

  upsert(points: Array<{ id: PointId; vector: number[]; payload?: Payload | null }>): number {
    this.version += 1;
    // Cosine collections store normalized vectors, so a score is a dot product (as in Qdrant).
    for (const p of points)
      this.points.set(String(p.id), { id: p.id, vector: normalized(p.vector), payload: p.payload ?? {}, version: this.version });
    return this.version;
  }

  deleteWhere(filter: Filter | undefined, ids: PointId[] | undefined): number {
    this.version += 1;
    for (const [key, point] of this.points) {
      if (ids ? ids.some((id) => id === point.id) : matchesFilter(point, filter)) this.points.delete(key);
    }
    return this.version;
  }

  sorted(filter: Filter | undefined): StubPoint[] {
    return [...this.points.values()].filter((p) => matchesFilter(p, filter)).sort((a, b) => compareIds(a.id, b.id));
  }

  score(query: number[], filter: Filter | undefined): Array<{ point: StubPoint; score: number }> {
    const q = normalized(query);
    return this.sorted(filter)
      .map((point) => ({ point, score: point.vector.reduce((s, x, i) => s + x * (q[i] ?? 0), 0) }))
      .sort((a, b) => b.score - a.score);
  }
}
