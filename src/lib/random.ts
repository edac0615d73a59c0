// The ground floor's seeded PRNG.

/**
 * mulberry32: the same seed gives the same sequence (fault schedules, randomized tests). The engine
 * keeps its own copy (src/saga/clock.ts seededRandom: it imports nothing outside src/saga, and will
 * ship as its own zero-dependency package); test/unit/faults.test.ts checks both give the same
 * numbers for the same seed. Everything outside the engine uses this one.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
