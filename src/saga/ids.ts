// Saga ids the engine makes when the caller gives none: UUIDv7 (RFC 9562), time-ordered.
// Why time-ordered: the log indexes sagas by id, and ids that grow with time are inserted at the
// edge of the index, so a group commit dirties a few pages instead of one page per saga.

let lastMs = 0;
let counter = 0;

export function newSagaId(now: number = Date.now()): string {
  // Within one millisecond a counter keeps ids increasing in this process.
  if (now <= lastMs) {
    counter++;
    now = lastMs;
  } else {
    lastMs = now;
    counter = 0;
  }
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  // 12 bits after the version: the in-millisecond counter (rand_a in RFC 9562 terms).
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
