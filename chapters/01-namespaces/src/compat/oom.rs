//! `--oom-score-adj`: how eagerly the kernel's OOM killer picks the
//! container's processes (-1000 never … 1000 first). Written to
//! `/proc/self/oom_score_adj` in PID 1 and inherited by its children.
//! Lowering it below the current value needs `CAP_SYS_RESOURCE`; without
//! it the start fails and says so.

use crate::error::SetupError;

/// Sets this process's OOM score adjustment.
pub fn apply(score: i32) -> Result<(), SetupError> {
    std::fs::write("/proc/self/oom_score_adj", score.to_string()).map_err(|e| {
        let why = if e.raw_os_error() == Some(libc::EACCES) {
            format!("{e}: lowering the score needs CAP_SYS_RESOURCE, which the engine lacks")
        } else {
            e.to_string()
        };
        SetupError::refused("oom_score_adj", Some(score.to_string()), why)
    })
}
