//! A small, deterministic mutator in the manner of AFL's "havoc" stage:
//! a few random edits stacked on one input — bit flips, bytes that parsers
//! treat specially, insertions, deletions, duplicated runs, splices with
//! another input, and tokens of the format's syntax.
//!
//! It has no coverage feedback (that is libFuzzer's job, see the README);
//! what it has is the format's dictionary and the pool of inputs the
//! parser accepted, which it keeps mutating, so it goes past the first
//! syntax error.

/// xorshift64*: small, fast, and the same sequence for the same seed, so a
/// run can be repeated exactly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced: xorshift needs a set bit).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n as u64) as usize
    }
}

/// Bytes that parsers treat specially.
const INTERESTING: &[u8] = &[
    0, 0xff, 0x7f, 0x80, 0xc3, b'/', b'*', b'?', b'[', b']', b'\\', b'\n', b'\r', b'"', b'{', b'}',
    b':', b'@', b'.', b'-', b'=', b'$', b'%', b'&', b' ', b'\t', b'0', b'9',
];

/// Changes `input` by one to four random edits, drawing on `dictionary`
/// and splicing from `others`; keeps it at most `max_len` bytes.
pub fn mutate(
    input: &mut Vec<u8>,
    others: &[Vec<u8>],
    dictionary: &[&[u8]],
    rng: &mut Rng,
    max_len: usize,
) {
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        edit(input, others, dictionary, rng);
    }
    input.truncate(max_len);
}

fn edit(input: &mut Vec<u8>, others: &[Vec<u8>], dictionary: &[&[u8]], rng: &mut Rng) {
    let len = input.len();
    match rng.below(10) {
        // flip a bit
        0 if len > 0 => {
            let at = rng.below(len);
            input[at] ^= 1 << rng.below(8);
        }
        // an interesting byte in place of one
        1 if len > 0 => {
            let at = rng.below(len);
            input[at] = INTERESTING[rng.below(INTERESTING.len())];
        }
        // insert random or interesting bytes
        2 => {
            let at = rng.below(len + 1);
            let count = 1 + rng.below(8);
            for _ in 0..count {
                let byte = if rng.below(2) == 0 {
                    rng.bits() as u8
                } else {
                    INTERESTING[rng.below(INTERESTING.len())]
                };
                input.insert(at, byte);
            }
        }
        // delete a run
        3 if len > 0 => {
            let at = rng.below(len);
            let count = 1 + rng.below((len - at).min(16));
            input.drain(at..at + count);
        }
        // duplicate a run (repetition is what makes backtracking explode)
        4 if len > 0 => {
            let at = rng.below(len);
            let count = 1 + rng.below((len - at).min(32));
            let run: Vec<u8> = input[at..at + count].to_vec();
            let times = 1 + rng.below(8);
            let to = rng.below(len + 1);
            for _ in 0..times {
                input.splice(to..to, run.iter().copied());
            }
        }
        // splice: our head, another input's tail
        5 if !others.is_empty() => {
            let other = &others[rng.below(others.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        // a token of the syntax, inserted or written over
        6 | 7 if !dictionary.is_empty() => {
            let token = dictionary[rng.below(dictionary.len())];
            let at = rng.below(len + 1);
            if rng.below(2) == 0 || at == len {
                input.splice(at..at, token.iter().copied());
            } else {
                let end = (at + token.len()).min(len);
                input.splice(at..end, token.iter().copied());
            }
        }
        // a digit changed: lengths, sizes, versions, ports
        8 => {
            let digits: Vec<usize> = (0..len).filter(|&i| input[i].is_ascii_digit()).collect();
            if let Some(&at) = digits.get(rng.below(digits.len().max(1))) {
                input[at] = b"0123456789"[rng.below(10)];
            }
        }
        // truncate
        _ if len > 0 => input.truncate(rng.below(len)),
        _ => input.push(rng.bits() as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutants() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut input = b"busybox:latest".to_vec();
            let mut seen = Vec::new();
            for _ in 0..100 {
                mutate(&mut input, &[b"x/y".to_vec()], &[b"@sha256:"], &mut rng, 64);
                seen.push(input.clone());
            }
            seen
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().all(|m| m.len() <= 64));
    }
}
