/**
 * The statistics behind a report: robust summaries of a few repeated runs (median, MAD, IQR,
 * Tukey fences), percentile-bootstrap confidence intervals from a seeded generator (so the same
 * results file always gives the same report), two-sample tests over runs (Mann–Whitney U, with
 * Welch's t-test for samples too small for it), and power-law fits on logs.
 *
 * The arithmetic comes from simple-statistics (maintained, typed, no dependencies): quantiles
 * (type 7, as R and NumPy), mean, median, sample standard deviation and variance, MAD, IQR,
 * resampling with a given random source, the Wilcoxon rank sum, the error function, ln Γ and
 * linear regression with its R². It was chosen over jstat (no release since 2022, no types)
 * and @stdlib (its Student t CDF alone installs some 200 packages).
 *
 * Written here, because none of the three has them in a usable form:
 * - {@link seededRandom}: the libraries take a random source but ship no seeded one;
 * - the percentile-bootstrap intervals (of a statistic, of a ratio of medians);
 * - Mann–Whitney's exact null distribution and its tie-corrected normal approximation
 *   (simple-statistics stops at the rank sum);
 * - the Student t tail through the regularized incomplete beta function (only jstat and @stdlib
 *   have a t CDF), and Welch's statistic and degrees of freedom on top of it
 *   (simple-statistics' two-sample t-test pools the variances and returns no p-value);
 * - the Student t quantile (by bisection on that tail) and the Welch interval of a ratio of
 *   geometric means, on which the verdicts, `--precision` and the regression gate rest.
 *
 * Everything here is pure and deterministic; nothing reads a clock or `Math.random`.
 *
 * @module
 */

import {
  errorFunction,
  gammaln,
  interquartileRange as iqr,
  linearRegression,
  linearRegressionLine,
  mean as ssMean,
  medianAbsoluteDeviation as mad,
  quantile as ssQuantile,
  rSquared,
  sampleVariance,
  sampleWithReplacement,
  wilcoxonRankSum,
} from "simple-statistics";

// simple-statistics copies its input before selecting in it; its types just do not say readonly.
const asArray = (xs: readonly number[]): number[] => xs as number[];

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * A small seeded generator: a Weyl sequence passed through a 32-bit avalanche mix. Good enough
 * for resampling, and the same seed always gives the same sequence.
 *
 * @param seed - Any 32-bit integer.
 * @returns A function returning uniform numbers in [0, 1).
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

function requireSample(xs: readonly number[], what: string, min = 1): void {
  if (xs.length < min) throw new RangeError(`${what} needs at least ${min} value${min === 1 ? "" : "s"}, got ${xs.length}`);
}

/**
 * The p-quantile by linear interpolation between order statistics (Hyndman–Fan type 7, the
 * default of R and NumPy).
 *
 * @param xs - The sample (any order).
 * @param p - The probability, in [0, 1].
 * @returns The interpolated quantile.
 * @throws RangeError when `xs` is empty or `p` is outside [0, 1].
 */
export function quantile(xs: readonly number[], p: number): number {
  requireSample(xs, "quantile");
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile probability must be in [0, 1], got ${p}`);
  return ssQuantile(asArray(xs), p);
}

/**
 * The median.
 *
 * @param xs - The sample.
 * @returns The middle value, or the mean of the two middle values.
 * @throws RangeError when `xs` is empty.
 */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/**
 * The arithmetic mean.
 *
 * @param xs - The sample.
 * @returns The mean.
 * @throws RangeError when `xs` is empty.
 */
export function mean(xs: readonly number[]): number {
  requireSample(xs, "mean");
  return ssMean(asArray(xs));
}

/**
 * The sample standard deviation (n − 1 denominator).
 *
 * @param xs - The sample.
 * @returns The standard deviation; 0 for a single value.
 * @throws RangeError when `xs` is empty.
 */
export function standardDeviation(xs: readonly number[]): number {
  requireSample(xs, "standardDeviation");
  return xs.length === 1 ? 0 : Math.sqrt(sampleVariance(asArray(xs)));
}

/**
 * The coefficient of variation, standard deviation over mean: how widely repeats disagree.
 *
 * @param xs - The sample.
 * @returns The CV (0.1 is 10%); 0 when the mean is 0.
 * @throws RangeError when `xs` is empty.
 */
export function coefficientOfVariation(xs: readonly number[]): number {
  const m = mean(xs);
  return m === 0 ? 0 : standardDeviation(xs) / Math.abs(m);
}

/**
 * The median absolute deviation from the median, unscaled (multiply by 1.4826 to estimate a
 * normal standard deviation).
 *
 * @param xs - The sample.
 * @returns The MAD.
 * @throws RangeError when `xs` is empty.
 */
export function medianAbsoluteDeviation(xs: readonly number[]): number {
  requireSample(xs, "medianAbsoluteDeviation");
  return mad(asArray(xs));
}

/**
 * The interquartile range, Q3 − Q1 (type-7 quartiles).
 *
 * @param xs - The sample.
 * @returns The IQR.
 * @throws RangeError when `xs` is empty.
 */
export function interquartileRange(xs: readonly number[]): number {
  requireSample(xs, "interquartileRange");
  return iqr(asArray(xs));
}

/** Tukey's fences and the values outside them. */
export interface TukeyFences {
  readonly lower: number;
  readonly upper: number;
  /** Indices (into the input) of the values outside the fences, in input order. */
  readonly outliers: readonly number[];
}

/**
 * Tukey's fences, Q1 − k·IQR and Q3 + k·IQR, and which values fall outside. Outliers are
 * reported, never removed: a report flags them and keeps them in every statistic.
 *
 * @param xs - The sample.
 * @param k - The fence multiplier. @defaultValue 1.5
 * @returns The fences and the outliers' indices.
 * @throws RangeError when `xs` is empty.
 */
export function tukeyFences(xs: readonly number[], k = 1.5): TukeyFences {
  const q1 = quantile(xs, 0.25);
  const q3 = quantile(xs, 0.75);
  const lower = q1 - k * (q3 - q1);
  const upper = q3 + k * (q3 - q1);
  const outliers: number[] = [];
  xs.forEach((x, i) => {
    if (x < lower || x > upper) outliers.push(i);
  });
  return { lower, upper, outliers };
}

/** A point estimate with a confidence interval. */
export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  /** The confidence level, e.g. 0.95. */
  readonly confidence: number;
}

/** Options of the bootstrap functions. */
export interface BootstrapOptions {
  /** Resamples drawn. @defaultValue {@link DEFAULT_BOOTSTRAP_RESAMPLES} */
  readonly resamples?: number;
  /** Confidence level of the interval. @defaultValue 0.95 */
  readonly confidence?: number;
  /** Seed of the generator: the same seed gives the same interval. @defaultValue {@link DEFAULT_BOOTSTRAP_SEED} */
  readonly seed?: number;
}

/** Default bootstrap resamples: enough for stable 2.5% / 97.5% tails. */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 4000;
/** Default bootstrap seed. */
export const DEFAULT_BOOTSTRAP_SEED = 0x5eed;

function resample(xs: readonly number[], random: RandomSource): number[] {
  return sampleWithReplacement(asArray(xs), xs.length, random);
}

function percentileInterval(estimate: number, draws: number[], confidence: number): Interval {
  const alpha = (1 - confidence) / 2;
  return { estimate, low: quantile(draws, alpha), high: quantile(draws, 1 - alpha), confidence };
}

function bootstrapSettings(options: BootstrapOptions): { resamples: number; confidence: number; random: RandomSource } {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return { resamples, confidence, random: seededRandom(options.seed ?? DEFAULT_BOOTSTRAP_SEED) };
}

/**
 * A percentile-bootstrap confidence interval for a statistic of one sample.
 *
 * With very few runs the interval can only span values the runs took (with 3 runs, the median's
 * interval is about [min, max]); that is the honest answer, not a defect.
 *
 * @param xs - The sample.
 * @param statistic - The statistic. @defaultValue {@link median}
 * @param options - Resamples, confidence and seed.
 * @returns The statistic of `xs` and its interval.
 * @throws RangeError when `xs` is empty or an option is out of range.
 */
export function bootstrapInterval(
  xs: readonly number[],
  statistic: (sample: readonly number[]) => number = median,
  options: BootstrapOptions = {},
): Interval {
  requireSample(xs, "bootstrapInterval");
  const { resamples, confidence, random } = bootstrapSettings(options);
  const draws: number[] = [];
  for (let i = 0; i < resamples; i++) draws.push(statistic(resample(xs, random)));
  return percentileInterval(statistic(xs), draws, confidence);
}

/**
 * A percentile-bootstrap confidence interval for the ratio of medians, median(a) / median(b),
 * resampling each group independently.
 *
 * @param a - The numerator's runs.
 * @param b - The denominator's runs (all of whose medians must be non-zero).
 * @param options - Resamples, confidence and seed.
 * @returns The ratio and its interval.
 * @throws RangeError when a sample is empty, or `b`'s median is 0.
 */
export function bootstrapRatioInterval(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): Interval {
  requireSample(a, "bootstrapRatioInterval (numerator)");
  requireSample(b, "bootstrapRatioInterval (denominator)");
  const mb = median(b);
  if (mb === 0) throw new RangeError("bootstrapRatioInterval: the denominator's median is 0");
  const { resamples, confidence, random } = bootstrapSettings(options);
  const draws: number[] = [];
  for (let i = 0; i < resamples; i++) {
    const num = median(resample(a, random));
    const den = median(resample(b, random));
    // A resampled denominator of 0 would make the ratio infinite; it can only happen when some
    // run measured 0, and then the interval is unbounded anyway.
    draws.push(den === 0 ? Number.POSITIVE_INFINITY : num / den);
  }
  return percentileInterval(median(a) / mb, draws, confidence);
}

/** The outcome of a two-sample test. */
export interface TestResult {
  /** The test's name, for reports. */
  readonly test: string;
  /** Its statistic (U for Mann–Whitney, t for Welch). */
  readonly statistic: number;
  /** The two-sided p-value. */
  readonly p: number;
  /** For Mann–Whitney: whether `p` is exact (else the normal approximation). */
  readonly exact?: boolean;
  /** For Welch: the Welch–Satterthwaite degrees of freedom. */
  readonly df?: number;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Largest n + m for which the exact Mann–Whitney distribution is computed. */
export const MANN_WHITNEY_EXACT_LIMIT = 50;

/**
 * The smallest two-sided p-value a Mann–Whitney test can reach with samples of these sizes,
 * 2 / C(n + m, n). With 3 runs against 3 it is 0.1: no 3-vs-3 comparison can be significant at
 * 5%, whatever the data.
 *
 * @param n - The first sample's size.
 * @param m - The second sample's size.
 * @returns The smallest attainable p (at most 1).
 */
export function mannWhitneyMinimumP(n: number, m: number): number {
  return Math.min(1, 2 / binomial(n + m, n));
}

/** Counts of U = 0..n·m over all arrangements of n and m untied values. */
function mannWhitneyCounts(n: number, m: number): number[] {
  // f[i][j][u]: arrangements of i x-values and j y-values with U = u, built up by whether the
  // largest value is an x (it beats all j y-values) or a y.
  let prev: number[][] = [];
  for (let j = 0; j <= m; j++) prev.push([1]);
  for (let i = 1; i <= n; i++) {
    const cur: number[][] = [[1]];
    for (let j = 1; j <= m; j++) {
      const size = i * j + 1;
      const row = new Array<number>(size).fill(0);
      const left = cur[j - 1] as number[];
      const down = prev[j] as number[];
      for (let u = 0; u < size; u++) {
        row[u] = (left[u] ?? 0) + (u - j >= 0 ? (down[u - j] ?? 0) : 0);
      }
      cur.push(row);
    }
    prev = cur;
  }
  return prev[m] as number[];
}

/** Standard normal upper tail, P(Z > z) (absolute error below 1.2e-7, plenty for a p-value). */
function normalUpperTail(z: number): number {
  return 0.5 * (1 - errorFunction(z / Math.SQRT2));
}

/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided: do the two samples come from the same
 * distribution? Exact when the samples have no ties and n + m ≤ {@link MANN_WHITNEY_EXACT_LIMIT};
 * otherwise the normal approximation with tie and continuity corrections.
 *
 * @param a - The first sample (e.g. one style's runs).
 * @param b - The second sample.
 * @returns U of `a` (pairs where a beats b, ties counting a half) and the two-sided p.
 * @throws RangeError when a sample is empty.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): TestResult {
  requireSample(a, "mannWhitneyU");
  requireSample(b, "mannWhitneyU");
  const n = a.length;
  const m = b.length;
  // Ties get the mean of their ranks in the rank sum.
  const u = wilcoxonRankSum(asArray(a), asArray(b)) - (n * (n + 1)) / 2;
  // Σ (t³ − t) over groups of t tied values: the tie correction of the variance.
  const pooled = [...a, ...b].sort((x, y) => x - y);
  let tieTerm = 0;
  for (let i = 0; i < pooled.length; ) {
    let j = i + 1;
    while (j < pooled.length && pooled[j] === pooled[i]) j++;
    const t = j - i;
    tieTerm += t ** 3 - t;
    i = j;
  }
  if (tieTerm === 0 && n + m <= MANN_WHITNEY_EXACT_LIMIT) {
    const counts = mannWhitneyCounts(n, m);
    const total = binomial(n + m, n);
    const lowU = Math.min(u, n * m - u);
    let tail = 0;
    for (let k = 0; k <= lowU; k++) tail += counts[k] ?? 0;
    return { test: "Mann–Whitney U", statistic: u, p: Math.min(1, (2 * tail) / total), exact: true };
  }
  const N = n + m;
  const mu = (n * m) / 2;
  const sigma = Math.sqrt(((n * m) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
  if (sigma === 0) return { test: "Mann–Whitney U", statistic: u, p: 1, exact: false };
  const z = Math.max(0, Math.abs(u - mu) - 0.5) / sigma;
  return { test: "Mann–Whitney U", statistic: u, p: Math.min(1, 2 * normalUpperTail(z)), exact: false };
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * Two-sided p-value of Student's t distribution: P(|T| ≥ |t|) with `df` degrees of freedom.
 *
 * @param t - The statistic.
 * @param df - Degrees of freedom (> 0, need not be an integer).
 * @returns The two-sided p.
 */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * Welch's unequal-variance t-test, two-sided. Used when a Mann–Whitney test cannot reach the
 * significance level with so few runs (see {@link mannWhitneyMinimumP}); it assumes roughly
 * normal runs, which repeated throughput measurements usually are.
 *
 * @param a - The first sample (at least 2 values).
 * @param b - The second sample (at least 2 values).
 * @returns t, the Welch–Satterthwaite df and the two-sided p.
 * @throws RangeError when a sample has fewer than 2 values.
 */
export function welchTTest(a: readonly number[], b: readonly number[]): TestResult {
  requireSample(a, "welchTTest", 2);
  requireSample(b, "welchTTest", 2);
  const va = sampleVariance(asArray(a)) / a.length;
  const vb = sampleVariance(asArray(b)) / b.length;
  const diff = mean(a) - mean(b);
  if (va + vb === 0) {
    return { test: "Welch t", statistic: diff === 0 ? 0 : Math.sign(diff) * Number.POSITIVE_INFINITY, p: diff === 0 ? 1 : 0, df: a.length + b.length - 2 };
  }
  const t = diff / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { test: "Welch t", statistic: t, p: studentTTwoSidedP(t, df), df };
}

/** A fitted power law y = coefficient · x^exponent. */
export interface PowerLawFit {
  readonly exponent: number;
  readonly coefficient: number;
  /** Coefficient of determination of the fit on logs. */
  readonly rSquared: number;
  /** Points used. */
  readonly n: number;
}

/**
 * Fits y = c · x^k by least squares on (ln x, ln y): k is how the cost grows with x (k = 0 flat,
 * k = 1 linear, k = 2 quadratic).
 *
 * @param xs - The x values (> 0).
 * @param ys - The y values (> 0), same length.
 * @returns The fit, or `undefined` when fewer than 2 distinct positive x values are given.
 * @throws RangeError when the arrays differ in length or a value is not positive.
 */
export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerLawFit | undefined {
  if (xs.length !== ys.length) throw new RangeError(`fitPowerLaw: ${xs.length} x values but ${ys.length} y values`);
  xs.forEach((x, i) => {
    const y = ys[i] as number;
    if (!(x > 0) || !(y > 0)) throw new RangeError(`fitPowerLaw: values must be positive, got (${x}, ${y})`);
  });
  if (new Set(xs).size < 2) return undefined;
  const points = xs.map((x, i): [number, number] => [Math.log(x), Math.log(ys[i] as number)]);
  const line = linearRegression(points);
  // All y equal: a flat line explains everything (R² would be 0 / 0).
  const flat = points.every(([, y]) => y === (points[0] as [number, number])[1]);
  return { exponent: line.m, coefficient: Math.exp(line.b), rSquared: flat ? 1 : rSquared(points, linearRegressionLine(line)), n: xs.length };
}

/**
 * The Student t quantile: the t with P(|T| ≤ t) = `confidence`, found by bisection on
 * {@link studentTTwoSidedP} (monotone in t), to 1e-10.
 *
 * @param confidence - Two-sided coverage in (0, 1), e.g. 0.95.
 * @param df - Degrees of freedom (> 0).
 * @returns The critical value, e.g. 2.262 for 0.95 and df = 9.
 * @throws RangeError when an argument is out of range.
 */
export function studentTQuantile(confidence: number, df: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (!(df > 0)) throw new RangeError(`df must be > 0, got ${df}`);
  const tail = 1 - confidence;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > tail) hi *= 2;
  while (hi - lo > 1e-10 * Math.max(1, hi)) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A ratio of geometric means with its Welch interval and test. */
export interface RatioEstimate extends Interval {
  /** Two-sided p of Welch's t-test on the logs (H0: the ratio is 1). */
  readonly p: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  /** The interval's half-width relative to the estimate: max(high / estimate − 1, 1 − low / estimate). */
  readonly relativeHalfWidth: number;
}

/**
 * The ratio of geometric means of two samples of positive figures (runs of one style over runs of
 * another, or a new build over a baseline), with the Welch t interval and two-sided test on the
 * logs. Taking logs makes the interval of a ratio symmetric (×/÷) and the test scale-free; the
 * interval excludes 1 exactly when p < 1 − confidence.
 *
 * @param a - The numerator's runs (each > 0, at least 2).
 * @param b - The denominator's runs (each > 0, at least 2).
 * @param confidence - Coverage of the interval. @defaultValue 0.95
 * @returns The ratio, its interval, p and df.
 * @throws RangeError when a sample has fewer than 2 values or a value is not positive.
 */
export function geometricMeanRatio(a: readonly number[], b: readonly number[], confidence = 0.95): RatioEstimate {
  requireSample(a, "geometricMeanRatio (numerator)", 2);
  requireSample(b, "geometricMeanRatio (denominator)", 2);
  for (const x of [...a, ...b]) if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`geometricMeanRatio: values must be positive and finite, got ${x}`);
  const la = a.map(Math.log);
  const lb = b.map(Math.log);
  const test = welchTTest(la, lb);
  const diff = mean(la) - mean(lb);
  const se = Math.sqrt(sampleVariance(la) / la.length + sampleVariance(lb) / lb.length);
  const df = test.df ?? la.length + lb.length - 2;
  const half = se === 0 ? 0 : studentTQuantile(confidence, df) * se;
  const estimate = Math.exp(diff);
  const low = Math.exp(diff - half);
  const high = Math.exp(diff + half);
  return { estimate, low, high, confidence, p: test.p, df, relativeHalfWidth: Math.max(high / estimate - 1, 1 - low / estimate) };
}

/**
 * The same ratio from paired runs: `a[i]` and `b[i]` measured side by side (one interleaved round
 * of two styles, or repeat i of two runs), so that what disturbed both, a busy machine in that
 * round or a cold start in the first, divides out. A one-sample t interval and test on the log
 * ratios; with runs that are not really paired it is still valid, only with fewer degrees of
 * freedom than {@link geometricMeanRatio}.
 *
 * @param a - The numerator's runs (each > 0).
 * @param b - The denominator's runs, paired with `a` by index (each > 0, same length, at least 2).
 * @param confidence - Coverage of the interval. @defaultValue 0.95
 * @returns The ratio of geometric means, its interval, p and df (pairs − 1).
 * @throws RangeError when the lengths differ, there are fewer than 2 pairs, or a value is not positive.
 */
export function pairedGeometricMeanRatio(a: readonly number[], b: readonly number[], confidence = 0.95): RatioEstimate {
  if (a.length !== b.length) throw new RangeError(`pairedGeometricMeanRatio: ${a.length} values against ${b.length}`);
  requireSample(a, "pairedGeometricMeanRatio", 2);
  for (const x of [...a, ...b]) if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`pairedGeometricMeanRatio: values must be positive and finite, got ${x}`);
  const d = a.map((x, i) => Math.log(x) - Math.log(b[i] as number));
  const m = mean(d);
  const se = Math.sqrt(sampleVariance(d) / d.length);
  const df = d.length - 1;
  const p = se === 0 ? (m === 0 ? 1 : 0) : studentTTwoSidedP(m / se, df);
  const half = se === 0 ? 0 : studentTQuantile(confidence, df) * se;
  const estimate = Math.exp(m);
  const low = Math.exp(m - half);
  const high = Math.exp(m + half);
  return { estimate, low, high, confidence, p, df, relativeHalfWidth: Math.max(high / estimate - 1, 1 - low / estimate) };
}
