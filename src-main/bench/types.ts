/** One benchmark figure: our cost and a baseline's cost measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number | null;
  /** value / baselineValue for costs (time, memory): below 1 beats the baseline; null without a baseline */
  ratio: number | null;
  /** extra figures (img/s, p99, peak RSS, ...) */
  extra?: Record<string, number | string>;
}

/** Files in src-main/bench export `benchmark`; the file name is its name for `bench NAME`. */
export interface Benchmark {
  name: string;
  description: string;
  run(opts: { log(message: string): void; quick: boolean }): Promise<BenchResult[]>;
}

/** the middle of the figures (the mean of the two middle ones for an even count) */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function ratio(value: number, baselineValue: number | null): number | null {
  return baselineValue && baselineValue > 0 ? value / baselineValue : null;
}
