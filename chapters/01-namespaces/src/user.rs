//! Who the command runs as.
//!
//! `setgroups`, `setgid`, `setuid` — in that order, because each needs the
//! privilege the next one gives up: once the uid is not 0 any more, the
//! process can no longer change its groups.

use nix::unistd::{setgid, setgroups, setuid, Gid, Uid};

use crate::error::SetupError;
use crate::spec::User;

// ANCHOR: switch_user
/// Switches to the spec's user, dropping every supplementary group the
/// engine had (root's groups would otherwise follow into the container).
pub fn switch_user(user: &User) -> Result<(), SetupError> {
    let groups: Vec<Gid> = user
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&groups).map_err(|e| SetupError::sys("setgroups", None, e))?;
    setgid(Gid::from_raw(user.gid))
        .map_err(|e| SetupError::sys("setgid", Some(user.gid.to_string()), e))?;
    setuid(Uid::from_raw(user.uid))
        .map_err(|e| SetupError::sys("setuid", Some(user.uid.to_string()), e))?;
    Ok(())
}
// ANCHOR_END: switch_user

/// In a fresh user namespace, becomes its root (uid and gid 0, which the
/// id maps just written make a real host id). The creator keeps its full
/// capabilities inside the namespace across this change.
pub fn become_namespace_root() -> Result<(), SetupError> {
    setgid(Gid::from_raw(0)).map_err(|e| SetupError::sys("setgid", Some("0".into()), e))?;
    setuid(Uid::from_raw(0)).map_err(|e| SetupError::sys("setuid", Some("0".into()), e))?;
    Ok(())
}
