// The one seeded PRNG of catmesh (sfc32, seeded through FNV-1a and splitmix32): a nemesis schedule,
// a Jepsen workload, a Raft simulation and every randomised test is a pure function of its seed,
// so a failure is replayed by rerunning its seed. Not for cryptography.

export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** An independent generator drawn from this one (e.g. one per simulated replica). */
  fork(): Prng;
}

export function createPrng(seed: number | string): Prng {
  // FNV-1a over the seed's text folds numbers and strings alike into 32 bits.
  let hash = 0x811c9dc5;
  for (const char of String(seed)) {
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193);
  }
  let mix = hash >>> 0;
  const splitmix32 = (): number => {
    mix = (mix + 0x9e3779b9) | 0;
    let z = mix;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  const sfc32 = (): number => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs still carry the seed's structure; skip them.
  for (let i = 0; i < 12; i++) sfc32();

  const int = (min: number, max: number): number => {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
      throw new Error(`prng.int: bad range [${min}, ${max}]`);
    }
    return min + Math.floor(sfc32() * (max - min + 1));
  };
  return {
    next: sfc32,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('prng.pick: no items');
      return items[int(0, items.length - 1)] as T;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = int(0, i);
        [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
      }
      return copy;
    },
    chance: (p: number): boolean => sfc32() < p,
    fork: (): Prng => createPrng(Math.floor(sfc32() * 4294967296)),
  };
}
