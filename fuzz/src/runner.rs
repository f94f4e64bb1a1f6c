//! Runs a target on its corpus, then on mutants of it, for a time budget.
//!
//! Order of work: every file of `regressions/TARGET/` (inputs that once
//! failed; each must pass now), every file of `corpus/TARGET/`, then
//! mutants of the pool (the corpus plus the inputs the parser accepted)
//! until the budget is spent.
//!
//! Two kinds of finding end a run: a panic (a property of the target did
//! not hold, or the parser itself panicked), and an input that takes
//! longer than `slow` — the sign of a parser whose work grows
//! exponentially. A panic is caught and returned; a slow input cannot be
//! interrupted, so a watchdog thread saves it, says where, and aborts the
//! process. Either way the input is written to the findings directory, to
//! be replayed, fixed and then kept in `regressions/`.

use crate::mutate::{mutate, Rng};
use crate::Target;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long and how hard to run.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Mutate until this much time has passed (the replay of the corpus
    /// and regressions always runs whole).
    pub time: Duration,
    /// The seed of the mutator: the same seed, the same mutants.
    pub seed: u64,
    /// The longest input made.
    pub max_len: usize,
    /// An input that runs longer than this is a finding.
    pub slow: Duration,
    /// Where failing inputs are written.
    pub findings: PathBuf,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Inputs replayed from `regressions/`.
    pub regressions: usize,
    /// Inputs replayed from `corpus/`.
    pub seeds: usize,
    /// Mutants run.
    pub mutants: u64,
    /// Inputs the parser accepted (corpus and mutants).
    pub accepted: u64,
    /// The slowest input's time.
    pub slowest: Duration,
    /// The whole run's time.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.regressions as u64 + self.seeds as u64 + self.mutants;
        write!(
            f,
            "fuzz {}: {} inputs in {:.1} s ({} regressions, {} seeds, {} mutants; {} accepted; \
             {:.0}/s; slowest {:.1} ms), no finding",
            self.target,
            total,
            self.elapsed.as_secs_f64(),
            self.regressions,
            self.seeds,
            self.mutants,
            self.accepted,
            total as f64 / self.elapsed.as_secs_f64().max(1e-9),
            self.slowest.as_secs_f64() * 1e3,
        )
    }
}

/// A failing input.
#[derive(Debug)]
pub struct Finding {
    /// The target.
    pub target: &'static str,
    /// What went wrong (the panic's message).
    pub message: String,
    /// The input, saved here.
    pub saved: PathBuf,
    /// The input, shown escaped (the first 400 bytes).
    pub preview: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fuzz {}: {}\n  input ({}): {}\n  replay it with `cargo run -p minidock-fuzz -- {} {}`; once \
             fixed, copy it to fuzz/regressions/{}/ so that it is replayed on every run",
            self.target,
            self.message,
            self.saved.display(),
            self.preview,
            self.target,
            self.saved.display(),
            self.target,
        )
    }
}

/// The files of `dir`, sorted by name (none if it does not exist).
pub fn inputs_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

fn preview(input: &[u8]) -> String {
    let shown = &input[..input.len().min(400)];
    let mut text = format!("{:?}", String::from_utf8_lossy(shown));
    if input.len() > shown.len() {
        text.push_str(&format!(" … ({} bytes)", input.len()));
    }
    text
}

/// Writes `input` to the findings directory; returns its path.
fn save(findings: &Path, target: &str, kind: &str, input: &[u8]) -> PathBuf {
    // FNV-1a: a stable name for the same input.
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = findings.join(target);
    let path = dir.join(format!("{kind}-{hash:016x}"));
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input)) {
        eprintln!(
            "fuzz {target}: could not save the input to {}: {e}",
            path.display()
        );
    }
    path
}

/// The input being run, for the watchdog.
struct Current {
    started: Instant,
    input: Vec<u8>,
    running: bool,
    finished: bool,
}

/// Watches the runs of one target: an input that runs past `slow` is
/// saved and reported, and the process aborts (a running parser cannot be
/// stopped from outside).
fn watchdog(target: &'static str, current: Arc<Mutex<Current>>, slow: Duration, findings: PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(50).min(slow / 4));
        let now = match current.lock() {
            Ok(now) => now,
            Err(poisoned) => poisoned.into_inner(),
        };
        if now.finished {
            return;
        }
        if now.running && now.started.elapsed() > slow {
            let saved = save(&findings, target, "slow", &now.input);
            let finding = Finding {
                target,
                message: format!(
                    "one input has run for more than {slow:?}: the parser's work grows too fast \
                     with its input (exponential backtracking?)"
                ),
                saved,
                preview: preview(&now.input),
            };
            eprintln!("{finding}\naborting: a running input cannot be interrupted");
            std::process::abort();
        }
    });
}

/// Runs `target` within `budget`, reading its inputs under `fuzz_dir`.
pub fn run(target: &'static Target, fuzz_dir: &Path, budget: &Budget) -> Result<Report, Finding> {
    if target.needs_root && !nix::unistd::geteuid().is_root() {
        return Err(Finding {
            target: target.name,
            message: format!(
                "this target needs root ({}): run it as root; it is not skipped",
                target.what
            ),
            saved: PathBuf::new(),
            preview: String::new(),
        });
    }
    let regressions = inputs_in(&fuzz_dir.join("regressions").join(target.name));
    let corpus = inputs_in(&fuzz_dir.join("corpus").join(target.name));
    if corpus.is_empty() {
        return Err(Finding {
            target: target.name,
            message: format!(
                "no seed corpus in {}: add a few valid inputs",
                fuzz_dir.join("corpus").join(target.name).display()
            ),
            saved: PathBuf::new(),
            preview: String::new(),
        });
    }
    let current = Arc::new(Mutex::new(Current {
        started: Instant::now(),
        input: Vec::new(),
        running: false,
        finished: false,
    }));
    let slow = budget.slow.max(target.slow_at_least);
    watchdog(target.name, current.clone(), slow, budget.findings.clone());
    let result = run_watched(target, &regressions, &corpus, budget, &current);
    if let Ok(mut now) = current.lock() {
        now.finished = true;
    }
    result
}

fn run_watched(
    target: &'static Target,
    regressions: &[(PathBuf, Vec<u8>)],
    corpus: &[(PathBuf, Vec<u8>)],
    budget: &Budget,
    current: &Mutex<Current>,
) -> Result<Report, Finding> {
    let start = Instant::now();
    let mut report = Report {
        target: target.name,
        regressions: regressions.len(),
        seeds: corpus.len(),
        mutants: 0,
        accepted: 0,
        slowest: Duration::ZERO,
        elapsed: Duration::ZERO,
    };
    // One input, watched: a panic becomes a finding.
    let one = |input: &[u8], kind: &str, report: &mut Report| -> Result<bool, Finding> {
        {
            let mut now = current.lock().unwrap_or_else(|p| p.into_inner());
            now.input.clear();
            now.input.extend_from_slice(input);
            now.started = Instant::now();
            now.running = true;
        }
        let began = Instant::now();
        let outcome = std::panic::catch_unwind(|| (target.run)(input));
        report.slowest = report.slowest.max(began.elapsed());
        current.lock().unwrap_or_else(|p| p.into_inner()).running = false;
        outcome.map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            Finding {
                target: target.name,
                message: format!("{kind} input failed: {message}"),
                saved: save(&budget.findings, target.name, "crash", input),
                preview: preview(input),
            }
        })
    };
    for (_, input) in regressions {
        one(input, "a regression", &mut report)?;
    }
    let mut pool: Vec<Vec<u8>> = Vec::new();
    for (_, input) in corpus {
        if one(input, "a seed", &mut report)? {
            report.accepted += 1;
        }
        pool.push(input.clone());
    }
    let seeds = pool.len();
    let mut rng = Rng::new(budget.seed);
    let mut input = Vec::new();
    while start.elapsed() < budget.time {
        input.clear();
        input.extend_from_slice(&pool[rng.below(pool.len())]);
        mutate(
            &mut input,
            &pool,
            target.dictionary,
            &mut rng,
            budget.max_len,
        );
        report.mutants += 1;
        if one(&input, "a mutant", &mut report)? {
            report.accepted += 1;
            // Keep accepted mutants to mutate further, in a bounded pool
            // whose seeds always stay.
            if pool.len() < seeds + 2_000 {
                pool.push(input.clone());
            } else {
                let at = seeds + rng.below(pool.len() - seeds);
                pool[at] = input.clone();
            }
        }
    }
    report.elapsed = start.elapsed();
    Ok(report)
}
