// The closed-loop load runner and row shape shared with ../shared/bench/anchors/lib.mjs, so that
// the project's rows line up with the anchors' rows: 20 warm-up runs, then N runs at concurrency C.

export interface BenchRow {
  name: string;
  concurrency: number;
  n: number;
  throughput_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
}

export async function runLoad(name: string, fn: (id: string) => Promise<unknown>, n: number, conc: number, warmup = 20): Promise<BenchRow> {
  for (let i = 0; i < warmup; i++) await fn(`warm-${i}-${Math.random()}`);
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    while (next < n) {
      const i = next++;
      const a = performance.now();
      await fn(`s-${i}-${Math.random()}`);
      lat.push(performance.now() - a);
    }
  }
  await Promise.all(Array.from({ length: conc }, worker));
  const wall = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => +(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(3);
  return {
    name,
    concurrency: conc,
    n,
    throughput_per_s: +(n / (wall / 1000)).toFixed(1),
    p50_ms: q(0.5),
    p90_ms: q(0.9),
    p99_ms: q(0.99),
  };
}
