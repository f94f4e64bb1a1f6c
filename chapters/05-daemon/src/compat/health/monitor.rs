//! The monitor: one thread per running container that has a check. It
//! sleeps the interval, runs the probe in the container through the
//! engine's exec path (the same helper `docker exec` uses), and counts
//! the result. It stops when the container's run ends.

use super::check::{go_duration, Probe};
use super::status::{next_wait, result, Health};
use crate::locks::lock;
use minidock_lifecycle::exec::ExecProcess;
use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::Pid;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// How much of a probe's output is kept (Docker's limit).
pub const MAX_OUTPUT: usize = 4096;

/// How long to wait for a probe's output to end after it exited (a
/// process it left in the background may hold the pipe open).
const OUTPUT_GRACE: Duration = Duration::from_secs(1);

/// A container's health as the daemon and its monitor share it: none
/// until its first start with a check.
pub type SharedHealth = Arc<Mutex<Option<Health>>>;

/// Locks, taking over a lock whose holder panicked (the health is plain
/// data, whole at every step).
pub fn lock_health(health: &SharedHealth) -> MutexGuard<'_, Option<Health>> {
    lock(health)
}

/// What the monitor needs of the engine, for one container.
pub trait Target: Send + Sync + 'static {
    /// Starts `argv` in the container, its stdout and stderr piped.
    fn exec(&self, argv: &[String]) -> Result<ExecProcess, String>;
    /// Whether the container is paused now (no probe runs then).
    fn paused(&self) -> bool;
    /// Keeps the health after a result (on disk, for a daemon that
    /// restarts) and, when the status `changed`, tells the world.
    fn save(&self, health: &Health, changed: bool);
}

/// A running monitor; [`Monitor::stop`] ends it.
pub struct Monitor {
    /// Dropped to wake the thread from its sleep.
    wake: mpsc::Sender<()>,
    /// Set under the health's lock: no result is counted after it.
    stopped: Arc<AtomicBool>,
}

impl Monitor {
    // ANCHOR: monitor
    /// Starts probing the container that `target` reaches, which started
    /// at `started`, counting the results into `health`.
    pub fn start(
        probe: Probe,
        health: SharedHealth,
        started: SystemTime,
        target: Arc<dyn Target>,
    ) -> Monitor {
        let (wake, sleep) = mpsc::channel::<()>();
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        let since_start = move |t: SystemTime| t.duration_since(started).unwrap_or_default();
        std::thread::spawn(move || loop {
            let wait = match &*lock_health(&health) {
                Some(h) => next_wait(h, since_start(SystemTime::now()), &probe),
                None => probe.interval,
            };
            match sleep.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return, // stopped
            }
            if target.paused() {
                continue;
            }
            let start = SystemTime::now();
            let (code, output) = run_probe(&*target, &probe);
            let end = SystemTime::now();
            let mut guard = lock_health(&health);
            if flag.load(Ordering::SeqCst) {
                return; // the run ended while the probe ran
            }
            let h = guard.get_or_insert_with(Health::default);
            let changed = h.record(result(start, end, code, output), since_start(start), &probe);
            target.save(h, changed);
        });
        Monitor { wake, stopped }
    }
    // ANCHOR_END: monitor

    /// Ends the monitor because the container's run ended: no result
    /// counts after this, and the status turns `unhealthy`. Returns
    /// whether it changed.
    pub fn stop(self, health: &SharedHealth) -> bool {
        let mut guard = lock_health(health);
        self.stopped.store(true, Ordering::SeqCst);
        drop(self.wake);
        guard.as_mut().is_some_and(Health::stopped)
    }
}

// ANCHOR: run_probe
/// Runs the probe once: its exit code and the start of its output, or -1
/// and why when it could not run or took longer than the timeout (then it
/// is killed).
fn run_probe(target: &dyn Target, probe: &Probe) -> (i64, String) {
    let mut process = match target.exec(&probe.argv) {
        Ok(p) => p,
        Err(why) => return (-1, why),
    };
    let output = Arc::new(Mutex::new(Vec::new()));
    let (done, ended) = mpsc::channel::<()>();
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        process
            .take_stdout()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        process
            .take_stderr()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    let mut pumps = 0;
    for mut stream in streams.into_iter().flatten() {
        let (output, done) = (output.clone(), done.clone());
        pumps += 1;
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buffer) {
                let mut kept = lock(&output);
                let room = MAX_OUTPUT.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
            }
            done.send(()).ok();
        });
    }
    // Waits for the exit without reaping it (WNOWAIT): until `wait`
    // below reaps it, the pid stays this process's, so the kill on a
    // timeout cannot reach another process that reused the number.
    let pid = Pid::from_raw(process.id() as i32);
    let (exited, exit) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT).ok();
        exited.send(()).ok();
    });
    let timed_out = exit.recv_timeout(probe.timeout).is_err();
    if timed_out {
        process.kill().ok();
    }
    let code = process.wait().map(i64::from).unwrap_or(-1);
    if timed_out {
        let why = format!(
            "Health check exceeded timeout ({})",
            go_duration(probe.timeout)
        );
        return (-1, why);
    }
    let deadline = std::time::Instant::now() + OUTPUT_GRACE;
    for _ in 0..pumps {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if ended.recv_timeout(left).is_err() {
            break;
        }
    }
    let kept = lock(&output).clone();
    (code, String::from_utf8_lossy(&kept).into_owned())
}
// ANCHOR_END: run_probe
