//! `exec`: another process in a running container — create the exec
//! instance, start it hijacked, copy the streams, then read its exit code.

use std::io::IsTerminal;

use minidock_daemon::types::ExecConfig;

use super::streams::{pump, TtyResize};
use super::Context;
use crate::cli::ExecArgs;
use crate::detach_keys::{detached_failure, resolve as resolve_detach_keys, Pumped};
use crate::error::{describe, start_failure_code, Failure};

/// `minidock exec`.
pub fn exec(ctx: &Context, args: ExecArgs) -> Result<i32, Failure> {
    let client = &ctx.client;
    let stdin_is_terminal = std::io::stdin().is_terminal();
    let detach_keys = resolve_detach_keys(args.detach_keys.as_deref())?;
    if args.tty && args.interactive && !stdin_is_terminal && !args.detach {
        return Err(Failure::new("the input device is not a TTY"));
    }
    let config = ExecConfig {
        attach_stdin: args.interactive && !args.detach,
        attach_stdout: !args.detach,
        attach_stderr: !args.detach,
        tty: args.tty,
        env: (!args.env.is_empty()).then(|| args.env.clone()),
        cmd: args.command.clone(),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        privileged: false,
        // The daemon watches for the keys the client watches for.
        detach_keys: Some(detach_keys.to_string()),
    };
    let exec_id = client.exec_create(&args.container, &config)?;
    let start_error = |e| {
        let message = describe(&e);
        Failure::new(message.clone()).with_code(start_failure_code(&message))
    };
    if args.detach {
        client.exec_start_detached(&exec_id).map_err(start_error)?;
        return Ok(0);
    }
    let hijacked = client.exec_start(&exec_id, args.tty).map_err(start_error)?;
    let resize = args.tty.then(|| TtyResize::Exec {
        client: client.clone(),
        id: exec_id.clone(),
    });
    let pumped = pump(
        hijacked,
        args.interactive,
        args.tty && args.interactive && stdin_is_terminal,
        resize,
        args.tty.then_some(detach_keys),
    )?;
    if pumped == Pumped::Detached {
        return Err(detached_failure());
    }
    let inspect = client.exec_inspect(&exec_id)?;
    Ok(inspect.exit_code.unwrap_or(0) as i32)
}
