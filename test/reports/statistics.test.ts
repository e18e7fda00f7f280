import { describe, expect, it } from "vitest";
import {
  bootstrapInterval,
  bootstrapRatioInterval,
  coefficientOfVariation,
  fitPowerLaw,
  interquartileRange,
  mannWhitneyMinimumP,
  mannWhitneyU,
  median,
  medianAbsoluteDeviation,
  quantile,
  seededRandom,
  studentTTwoSidedP,
  tukeyFences,
  welchTTest,
} from "../../reports/statistics.js";

describe("robust summaries", () => {
  it("median of odd and even samples, in any order", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it("type-7 quantiles match R's quantile()", () => {
    // R: quantile(c(1,2,3,4,5,6,7,8,9,10)) → 1, 3.25, 5.5, 7.75, 10
    const xs = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 0.25)).toBeCloseTo(3.25, 12);
    expect(quantile(xs, 0.75)).toBeCloseTo(7.75, 12);
    expect(quantile(xs, 1)).toBe(10);
    expect(interquartileRange(xs)).toBeCloseTo(4.5, 12);
  });

  it("MAD of a textbook sample", () => {
    // Wikipedia's example: {1, 1, 2, 2, 4, 6, 9} has median 2 and MAD 1.
    expect(medianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1);
  });

  it("Tukey fences flag the far value and keep the indices in input order", () => {
    // NumPy: percentile(xs, [25, 75]) = [11.75, 13.25], IQR 1.5: fences [9.5, 15.5].
    const xs = [12, 11, 13, 40, 12, 14, 11, 13];
    const f = tukeyFences(xs);
    expect(f.lower).toBeCloseTo(9.5, 12);
    expect(f.upper).toBeCloseTo(15.5, 12);
    expect(f.outliers).toEqual([3]);
    expect(tukeyFences([1, 2, 3]).outliers).toEqual([]);
  });

  it("coefficient of variation", () => {
    expect(coefficientOfVariation([10, 10, 10])).toBe(0);
    // sd of [9, 10, 11] is 1, mean 10.
    expect(coefficientOfVariation([9, 10, 11])).toBeCloseTo(0.1, 12);
  });
});

describe("seeded bootstrap", () => {
  it("the generator is reproducible and roughly uniform", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.02);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });

  it("a 95% interval of the median contains the true median and is the same for the same seed", () => {
    // A sample from N(100, 10²) drawn with a fixed generator.
    const r = seededRandom(7);
    const xs = Array.from({ length: 200 }, () => 100 + 10 * Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r()));
    const ci = bootstrapInterval(xs, median, { seed: 1 });
    expect(ci.low).toBeLessThan(100);
    expect(ci.high).toBeGreaterThan(100);
    expect(ci.high - ci.low).toBeLessThan(6);
    expect(bootstrapInterval(xs, median, { seed: 1 })).toEqual(ci);
    expect(bootstrapInterval(xs, median, { seed: 2 })).not.toEqual(ci);
  });

  it("the interval of a constant sample is that constant", () => {
    expect(bootstrapInterval([5, 5, 5])).toMatchObject({ estimate: 5, low: 5, high: 5 });
  });

  it("a ratio interval covers the true ratio and excludes 1 when the groups clearly differ", () => {
    const a = [200, 204, 198, 202, 199, 201];
    const b = [100, 101, 99, 102, 98, 100];
    const ci = bootstrapRatioInterval(a, b, { seed: 3 });
    expect(ci.estimate).toBeCloseTo(200 / 100, 2);
    expect(ci.low).toBeLessThanOrEqual(2);
    expect(ci.high).toBeGreaterThanOrEqual(2);
    expect(ci.low).toBeGreaterThan(1.9);
    expect(bootstrapRatioInterval(a, b, { seed: 3 })).toEqual(ci);
  });
});

describe("tests over runs", () => {
  it("Mann–Whitney exact p matches SciPy on textbook samples", () => {
    // scipy.stats.mannwhitneyu([1,2,3],[4,5,6], method="exact") → U = 0, p = 0.1
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toMatchObject({ statistic: 0, p: 0.1, exact: true });
    // scipy: mannwhitneyu([19,22,16,29,24],[20,11,17,12], method="exact") → U = 17, p = 0.1111
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r.statistic).toBe(17);
    expect(r.p).toBeCloseTo(0.1111111, 6);
    expect(r.exact).toBe(true);
  });

  it("Mann–Whitney with ties uses the corrected normal approximation (SciPy asymptotic)", () => {
    // scipy: mannwhitneyu(a, b, method="asymptotic", use_continuity=True) → U = 23, p = 0.36122
    const r = mannWhitneyU([7, 3, 6, 2, 4, 3, 5, 5], [3, 5, 6, 4, 6, 5, 7, 5]);
    expect(r.statistic).toBe(23);
    expect(r.exact).toBe(false);
    expect(r.p).toBeCloseTo(0.3612181, 5);
  });

  it("3 runs against 3 cannot reach 5% with a rank test", () => {
    expect(mannWhitneyMinimumP(3, 3)).toBeCloseTo(0.1, 12);
    expect(mannWhitneyMinimumP(4, 4)).toBeCloseTo(2 / 70, 12);
  });

  it("Student t tail and Welch's test match SciPy", () => {
    // 2 * scipy.stats.t.sf(2.0, 10) = 0.0733880
    expect(studentTTwoSidedP(2, 10)).toBeCloseTo(0.0733880348, 8);
    expect(studentTTwoSidedP(1.5, 3.7)).toBeCloseTo(0.2135981692, 8);
    // scipy.stats.ttest_ind([10.1,10.3,9.9],[11.0,11.4,11.2], equal_var=False) → t = −6.7361, df = 4, p = 0.0025308
    const w = welchTTest([10.1, 10.3, 9.9], [11.0, 11.4, 11.2]);
    expect(w.statistic).toBeCloseTo(-6.73609679, 6);
    expect(w.df).toBeCloseTo(4, 6);
    expect(w.p).toBeCloseTo(0.0025308078, 8);
    const w2 = welchTTest([1, 2, 3, 4, 5, 6], [2.5, 6, 7, 9]);
    expect(w2.statistic).toBeCloseTo(-1.6831448, 6);
    expect(w2.df).toBeCloseTo(4.8989902, 5);
    expect(w2.p).toBeCloseTo(0.1543754, 6);
  });
});

describe("power-law fit", () => {
  it("recovers a known exponent and coefficient exactly from exact data", () => {
    const xs = [1, 10, 100, 1000];
    const fit = fitPowerLaw(xs, xs.map((x) => 3 * x ** 0.5));
    expect(fit?.exponent).toBeCloseTo(0.5, 12);
    expect(fit?.coefficient).toBeCloseTo(3, 10);
    expect(fit?.rSquared).toBeCloseTo(1, 12);
  });

  it("recovers the exponent within noise, and refuses what it cannot fit", () => {
    const r = seededRandom(11);
    const xs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
    const ys = xs.map((x) => 50 * x ** 1.3 * (1 + 0.05 * (r() - 0.5)));
    expect(fitPowerLaw(xs, ys)?.exponent).toBeCloseTo(1.3, 1);
    expect(fitPowerLaw([10, 10], [1, 2])).toBeUndefined();
    expect(() => fitPowerLaw([1, 2], [0, 1])).toThrow(RangeError);
  });
});
