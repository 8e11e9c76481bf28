//! Least-significant-digit radix sorts for the packed integer keys the analytics group by
//! (a million customers' histories or spends per report): four or eight counting passes of 16
//! bits instead of a comparison sort, and a pass whose digit is the same in every key is
//! skipped (the high bits of small counts).

/// Keys that split into 16-bit digits, lowest first.
pub trait RadixKey: Copy + Default {
    const DIGITS: u32;
    fn digit(self, n: u32) -> usize;
}

impl RadixKey for u64 {
    const DIGITS: u32 = 4;
    fn digit(self, n: u32) -> usize {
        ((self >> (16 * n)) & 0xffff) as usize
    }
}

impl RadixKey for u128 {
    const DIGITS: u32 = 8;
    fn digit(self, n: u32) -> usize {
        ((self >> (16 * n)) & 0xffff) as usize
    }
}

/// Sorts `keys` ascending (stable, which for plain integers is just sorted).
pub fn radix_sort<K: RadixKey>(keys: &mut Vec<K>) {
    const SMALL: usize = 4_096;
    if keys.len() < SMALL {
        keys.sort_unstable_by_key(|&k| k_bits(k));
        return;
    }
    let mut other: Vec<K> = vec![K::default(); keys.len()];
    let mut counts = vec![0usize; 1 << 16];
    for n in 0..K::DIGITS {
        counts.iter_mut().for_each(|c| *c = 0);
        for &k in keys.iter() {
            counts[k.digit(n)] += 1;
        }
        if counts.contains(&keys.len()) {
            continue;
        }
        let mut start = 0;
        for c in counts.iter_mut() {
            let here = *c;
            *c = start;
            start += here;
        }
        for &k in keys.iter() {
            let slot = &mut counts[k.digit(n)];
            other[*slot] = k;
            *slot += 1;
        }
        std::mem::swap(keys, &mut other);
    }
}

/// The key as a 128-bit number, for the small-input fallback's comparison.
fn k_bits<K: RadixKey>(k: K) -> u128 {
    (0..K::DIGITS).fold(0u128, |acc, n| acc | ((k.digit(n) as u128) << (16 * n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_a_comparison_sort() {
        let mut rng = fastrand::Rng::with_seed(7);
        for n in [0, 1, 2, 100, 4_095, 4_096, 50_000] {
            let mut a: Vec<u64> = (0..n)
                .map(|i| match i % 4 {
                    0 => rng.u64(..),
                    1 => rng.u64(..1 << 20),
                    2 => u64::MAX - rng.u64(..3),
                    _ => (rng.u64(..50) << 42) | (rng.u64(..900) << 21) | rng.u64(..900),
                })
                .collect();
            let mut expected = a.clone();
            expected.sort_unstable();
            radix_sort(&mut a);
            assert_eq!(a, expected, "u64, {n}");
            let mut b: Vec<u128> = (0..n)
                .map(|i| (u128::from(rng.u32(..40)) << 64) | u128::from(rng.u64(..) >> (i % 3)))
                .collect();
            let mut expected = b.clone();
            expected.sort_unstable();
            radix_sort(&mut b);
            assert_eq!(b, expected, "u128, {n}");
        }
        // A digit with only two values (a pass that must run although nearly uniform).
        let mut two: Vec<u64> = (0..20_000)
            .map(|_| (u64::from(rng.bool()) << 48) | rng.u64(..1 << 16))
            .collect();
        let mut expected = two.clone();
        expected.sort_unstable();
        radix_sort(&mut two);
        assert_eq!(two, expected);
        // Every key equal: every pass skipped.
        let mut same = vec![42u64; 10_000];
        radix_sort(&mut same);
        assert!(same.iter().all(|&k| k == 42));
    }
}
