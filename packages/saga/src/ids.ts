// Saga ids the engine makes when the caller gives none: UUIDv7 (RFC 9562), time-ordered.
// Why time-ordered: the log indexes sagas by id, and ids that grow with time are inserted at the
// edge of the index, so a group commit dirties a few pages instead of one page per saga.
// Random bits come from a pooled crypto buffer: one getRandomValues call per 512 ids, since a
// call per id cost more than the rest of a no-op saga.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = new Uint8Array(512 * 10);
let poolPos = POOL.length;
let lastMs = 0;
let counter = 0;

function randomBytes10(): number {
  if (poolPos + 10 > POOL.length) {
    globalThis.crypto.getRandomValues(POOL);
    poolPos = 0;
  }
  const at = poolPos;
  poolPos += 10;
  return at;
}

export function newSagaId(now: number = Date.now()): string {
  // Within one millisecond a 12-bit counter keeps ids increasing in this process.
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++; // more than 4096 ids in one millisecond: borrow the next one, stay increasing
      counter = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    counter = 0;
  }
  const r = randomBytes10();
  const hi = Math.floor(now / 0x10000); // top 32 of the 48 timestamp bits
  const lo = now % 0x10000;
  const h = (n: number): string => HEX[n & 0xff] as string;
  return (
    h(hi >>> 24) +
    h(hi >>> 16) +
    h(hi >>> 8) +
    h(hi) +
    '-' +
    h(lo >>> 8) +
    h(lo) +
    '-' +
    h(0x70 | (counter >>> 8)) +
    h(counter) +
    '-' +
    h(0x80 | ((POOL[r] ?? 0) & 0x3f)) +
    h(POOL[r + 1] ?? 0) +
    '-' +
    h(POOL[r + 2] ?? 0) +
    h(POOL[r + 3] ?? 0) +
    h(POOL[r + 4] ?? 0) +
    h(POOL[r + 5] ?? 0) +
    h(POOL[r + 6] ?? 0) +
    h(POOL[r + 7] ?? 0)
  );
}
