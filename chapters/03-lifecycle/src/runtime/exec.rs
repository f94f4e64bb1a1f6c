//! `docker exec`: one more process in a running container — its
//! namespaces, its cgroup, its user and environment unless the options say
//! otherwise. The joining itself is [`crate::exec`]'s.

use super::Runtime;
use crate::error::{Error, Result};
use crate::exec::{self, ExecProcess, ExecSpec};
use crate::id::ContainerId;
use crate::shim;
use crate::state::{State, TransitionError};
use crate::user::resolve_user;

// ANCHOR: exec_options
/// What `docker exec` is given.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// The command and its arguments; must not be empty.
    pub args: Vec<String>,
    /// `-e KEY=VALUE`, added to the container's environment.
    pub env: Vec<String>,
    /// `-u`; the container's user when not given.
    pub user: Option<String>,
    /// `-w`; the container's working directory when not given.
    pub working_dir: Option<String>,
    /// `-t`: give the process a terminal.
    pub tty: bool,
    /// `-i`: keep stdin open (piped).
    pub stdin: bool,
}
// ANCHOR_END: exec_options

impl Runtime {
    // ANCHOR: exec
    /// `docker exec`: starts a process in the running container's
    /// namespaces and cgroup, as its user unless `options.user` says
    /// otherwise, with its environment plus `options.env`.
    pub fn exec(&self, id: &ContainerId, options: ExecOptions) -> Result<ExecProcess> {
        let container = self.containers.container(id)?;
        let record = self.reconcile(id)?;
        let pid = match record.state {
            State::Running { pid, .. } => pid,
            State::Paused { .. } => {
                return Err(Error::Paused {
                    op: "exec",
                    id: id.to_string(),
                })
            }
            _ => {
                return Err(TransitionError::NotRunning {
                    op: "exec in",
                    id: id.to_string(),
                }
                .into())
            }
        };
        if options.args.is_empty() {
            return Err(Error::ExecEmpty);
        }
        let rootfs = self.containers.dir(id).join("merged");
        let user_spec = options.user.as_deref().unwrap_or(&container.config.user);
        let mut user = resolve_user(&rootfs, user_spec)?;
        let groups = container.host_config.process.group_ids(&rootfs)?;
        user.additional_gids.extend(groups);
        let mut env = shim::container_env(&container.config, &user);
        shim::add_start_env(&mut env, &container.host_config.start_env);
        for entry in &options.env {
            crate::env::set(&mut env, entry);
        }
        let cwd = options
            .working_dir
            .or_else(|| Some(container.config.working_dir.clone()).filter(|w| !w.is_empty()))
            .unwrap_or_else(|| "/".into());
        let spec = ExecSpec {
            pid,
            cgroup_procs: self.cgroup(id)?.join_files(),
            args: options.args,
            env,
            cwd: cwd.into(),
            user: minidock_namespaces::User {
                uid: user.uid,
                gid: user.gid,
                additional_gids: user.additional_gids,
            },
            capabilities: container.host_config.process.capabilities()?,
            seccomp: container.host_config.seccomp(),
            no_new_privileges: container.host_config.no_new_privileges(),
            tty: options.tty,
            rlimits: container.host_config.process.rlimits(),
        };
        exec::spawn(&*self.helper()?, &spec, options.stdin)
    }
    // ANCHOR_END: exec
}
