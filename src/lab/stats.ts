/**
 * Tolerances for counts drawn at random (a random-loss rule drops each packet with probability P):
 * k losses out of n datagrams is binomial, so its spread shrinks with the sample (sd = sqrt(p(1-p)/n))
 * and a fixed percentage would be too tight for small samples and too loose for large ones. The
 * bound is z standard deviations (4 by default: about 1 in 16,000 runs of a correct model falls
 * outside it, so a lab's 20-run proof with several such checks stays green when the model holds),
 * never less than one datagram's worth.
 */
export interface BinomialBound {
  lo: number; // percent
  hi: number; // percent
  sdPercent: number;
}

/** The band, in percent, within which a rate p (percent) measured over n trials falls. */
export function binomialBound(pPercent: number, n: number, z = 4): BinomialBound {
  const p = Math.min(1, Math.max(0, pPercent / 100));
  const sd = n > 0 ? Math.sqrt((p * (1 - p)) / n) : 1;
  const half = Math.max(z * sd, 1 / Math.max(1, n));
  return { lo: Math.max(0, (p - half) * 100), hi: Math.min(100, (p + half) * 100), sdPercent: sd * 100 };
}

/** The band for the difference of two rates measured over n1 and n2 trials that share one p. */
export function differenceBound(pPercent: number, n1: number, n2: number, z = 4): number {
  const p = Math.min(1, Math.max(0, pPercent / 100));
  const sd = Math.sqrt(p * (1 - p) * (1 / Math.max(1, n1) + 1 / Math.max(1, n2)));
  return Math.max(z * sd, 1 / Math.max(1, Math.min(n1, n2))) * 100;
}

/** 1 - (1 - P)^k in percent: a datagram carried in k packets, each lost with probability P percent. */
export function fragmentModel(perPacketPercent: number, k: number): number {
  return (1 - Math.pow(1 - perPacketPercent / 100, k)) * 100;
}
