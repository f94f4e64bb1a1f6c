//! The lifecycle commands: `start`, `stop`, `kill`, `restart`, `pause`,
//! `unpause`, `rm`, `wait`, and `logs`.
//!
//! Each takes one or more containers and, like the docker CLI, prints the
//! name it was given for every one that succeeded, reports the others on
//! stderr and exits 1 if any failed.

use std::io::IsTerminal;

use minidock_daemon::service::{AttachOptions, LogsOptions};
use minidock_daemon::wait::WaitCondition;

use super::streams::{copy_output, pump, TtyResize};
use super::{for_each, Context};
use crate::cli::{ContainersArgs, KillArgs, LogsArgs, RestartArgs, RmArgs, StartArgs, StopArgs};
use crate::detach_keys::{detached_failure, resolve as resolve_detach_keys, Pumped};
use crate::error::{describe, start_failure_code, Failure};

/// `minidock start [-a] [-i]`.
pub fn start(ctx: &Context, args: StartArgs) -> Result<i32, Failure> {
    let client = &ctx.client;
    if !(args.attach || args.interactive) {
        return for_each(&args.containers, |name| {
            client.container_start(name)?;
            Ok(Some(name.to_string()))
        });
    }
    let [name] = args.containers.as_slice() else {
        return Err(Failure::new(
            "minidock: you cannot start and attach multiple containers at once",
        ));
    };
    let detach_keys = resolve_detach_keys(args.detach_keys.as_deref())?;
    let inspect = client.container_inspect(name)?;
    let tty = inspect.config.tty;
    let stdin = args.interactive && inspect.config.open_stdin;
    let hijacked = client.container_attach(
        name,
        &AttachOptions::live(stdin).with_detach_keys(&detach_keys),
    )?;
    let condition = if inspect.host_config.auto_remove {
        WaitCondition::Removed
    } else {
        WaitCondition::NextExit
    };
    let wait = client.container_wait_begin(name, condition)?;
    if let Err(e) = client.container_start(name) {
        let message = describe(&e);
        return Err(Failure::new(message.clone()).with_code(start_failure_code(&message)));
    }
    let resize = tty.then(|| TtyResize::Container {
        client: client.clone(),
        id: inspect.id.clone(),
    });
    let pumped = pump(
        hijacked,
        stdin,
        tty && stdin && std::io::stdin().is_terminal(),
        resize,
        tty.then_some(detach_keys),
    )?;
    if pumped == Pumped::Detached {
        return Err(detached_failure());
    }
    Ok(wait.finish()?.status_code as i32)
}

/// `minidock attach [--no-stdin] CONTAINER`: the running container's
/// output from now on, and its input if it keeps stdin open, until it
/// exits; returns its exit code.
pub fn attach(ctx: &Context, args: crate::cli::AttachArgs) -> Result<i32, Failure> {
    let client = &ctx.client;
    let detach_keys = resolve_detach_keys(args.detach_keys.as_deref())?;
    let inspect = client.container_inspect(&args.container)?;
    if !inspect.state.running {
        return Err(Failure::new(
            "minidock: you cannot attach to a stopped container, start it first",
        ));
    }
    if inspect.state.paused {
        return Err(Failure::new(
            "minidock: you cannot attach to a paused container, unpause it first",
        ));
    }
    let tty = inspect.config.tty;
    let stdin = !args.no_stdin && inspect.config.open_stdin;
    if tty && stdin && !std::io::stdin().is_terminal() {
        return Err(Failure::new("the input device is not a TTY"));
    }
    let wait = client.container_wait_begin(&inspect.id, WaitCondition::NotRunning)?;
    let hijacked = client.container_attach(
        &inspect.id,
        &AttachOptions::live(stdin).with_detach_keys(&detach_keys),
    )?;
    let resize = tty.then(|| TtyResize::Container {
        client: client.clone(),
        id: inspect.id.clone(),
    });
    let pumped = pump(
        hijacked,
        stdin,
        tty && stdin,
        resize,
        tty.then_some(detach_keys),
    )?;
    if pumped == Pumped::Detached {
        return Err(detached_failure());
    }
    Ok(wait.finish()?.status_code as i32)
}

/// `minidock stop [-t N] [-s SIG]`.
pub fn stop(ctx: &Context, args: StopArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        ctx.client
            .container_stop(name, args.timeout, args.signal.as_deref())?;
        Ok(Some(name.to_string()))
    })
}

/// `minidock kill [-s SIG]`.
pub fn kill(ctx: &Context, args: KillArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        ctx.client.container_kill(name, args.signal.as_deref())?;
        Ok(Some(name.to_string()))
    })
}

/// `minidock restart [-t N]`.
pub fn restart(ctx: &Context, args: RestartArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        ctx.client.container_restart(name, args.timeout)?;
        Ok(Some(name.to_string()))
    })
}

/// `minidock pause`.
pub fn pause(ctx: &Context, args: ContainersArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        ctx.client.container_pause(name)?;
        Ok(Some(name.to_string()))
    })
}

/// `minidock unpause`.
pub fn unpause(ctx: &Context, args: ContainersArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        ctx.client.container_unpause(name)?;
        Ok(Some(name.to_string()))
    })
}

/// `minidock rm [-f]`.
pub fn rm(ctx: &Context, args: RmArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        ctx.client
            .container_remove_with_volumes(name, args.force, args.volumes)?;
        Ok(Some(name.to_string()))
    })
}

/// `minidock wait`: prints each container's exit code.
pub fn wait(ctx: &Context, args: ContainersArgs) -> Result<i32, Failure> {
    for_each(&args.containers, |name| {
        let status = ctx.client.container_wait(name, WaitCondition::NotRunning)?;
        Ok(Some(status.status_code.to_string()))
    })
}

/// `--tail`: `all` or a number of lines.
fn parse_tail(text: &str) -> Result<Option<usize>, Failure> {
    if text == "all" || text.is_empty() {
        return Ok(None);
    }
    text.parse::<usize>().map(Some).map_err(|_| {
        Failure::usage(format!(
            "invalid value for --tail: {text:?} (a number of lines, or all)"
        ))
    })
}

/// `minidock logs [-f] [-t] [--tail N]`.
pub fn logs(ctx: &Context, args: LogsArgs) -> Result<i32, Failure> {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        follow: args.follow,
        tail: parse_tail(&args.tail)?,
        since: None,
        until: None,
    };
    let mut output = ctx
        .client
        .container_logs(&args.container, &options, args.timestamps)?;
    copy_output(&mut output)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_takes_numbers_and_all() {
        assert_eq!(parse_tail("all"), Ok(None));
        assert_eq!(parse_tail("5"), Ok(Some(5)));
        assert_eq!(parse_tail("-1").unwrap_err().code, 125);
        assert!(parse_tail("ten").is_err());
    }
}
