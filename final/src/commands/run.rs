//! `create` and `run`: from flags to a create request, and the request
//! flow of `docker run`.
//!
//! `run` is four API calls, in the docker CLI's order:
//!
//! 1. `POST /containers/create` — on `404 No such image`, pull and retry;
//! 2. `POST /containers/{id}/attach` — before start, so no output is lost;
//! 3. `POST /containers/{id}/wait?condition=next-exit` (`removed` with
//!    `--rm`, since the daemon removes the container) — also before start,
//!    so the exit cannot be missed; the daemon sends the headers at once;
//! 4. `POST /containers/{id}/start`;
//!
//! then it copies the streams until the container closes them and exits
//! with the status the wait returns.

use std::io::IsTerminal;

use minidock_client::{Client, ClientError};
use minidock_daemon::service::AttachOptions;
use minidock_daemon::types::{ContainerConfig, ContainerCreateBody, HostConfig, LogConfig};
use minidock_daemon::wait::WaitCondition;

use super::images::pull_image;
use super::streams::{pump, TtyResize};
use super::Context;
use crate::cli::{ContainerOptions, CreateArgs, RunArgs};
use crate::detach_keys::{resolve as resolve_detach_keys, Pumped};
use crate::error::{describe, start_failure_code, Failure};
use crate::format::{parse_nano_cpus, parse_ram_in_bytes};

/// Reads an `--env-file`: `KEY=value` lines; blank lines and `#` comments
/// are skipped; a bare `KEY` takes its value from the client's environment
/// (and is dropped when unset there), as in Docker.
fn read_env_file(path: &str) -> Result<Vec<String>, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("open {path}: {e}")))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.extend(env_entry(line).map_err(|why| Failure::usage(format!("{path}: {why}")))?);
    }
    Ok(out)
}

/// One `-e` value: `KEY=value` as given, `KEY` from the environment.
fn env_entry(entry: &str) -> Result<Option<String>, String> {
    let (key, value) = match entry.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (entry, None),
    };
    if key.is_empty() {
        return Err(format!("invalid environment variable: {entry}"));
    }
    if key.contains(char::is_whitespace) {
        return Err(format!("variable '{key}' contains whitespaces"));
    }
    Ok(match value {
        Some(_) => Some(entry.to_string()),
        None => std::env::var(key).ok().map(|v| format!("{key}={v}")),
    })
}

/// The body of `POST /containers/create` for these flags. `attach` says
/// whether the client will attach to the streams (`run` without `-d`).
pub fn container_create_body(
    opts: &ContainerOptions,
    attach: bool,
) -> Result<ContainerCreateBody, Failure> {
    let mut env = Vec::new();
    for file in &opts.env_file {
        env.extend(read_env_file(file)?);
    }
    for entry in &opts.env {
        env.extend(env_entry(entry).map_err(Failure::usage)?);
    }
    let memory = match &opts.memory {
        Some(m) => parse_ram_in_bytes(m).map_err(|e| {
            Failure::usage(format!(
                "invalid argument \"{m}\" for \"-m, --memory\" flag: {e}"
            ))
        })?,
        None => 0,
    };
    let nano_cpus = match &opts.cpus {
        Some(c) => parse_nano_cpus(c).map_err(Failure::usage)?,
        None => 0,
    };
    let restart = super::update::restart_policy(&opts.restart)?;
    if opts.rm && restart.name != "no" {
        return Err(Failure::usage("Conflicting options: --restart and --rm"));
    }
    let attach_stdin = attach && opts.interactive;
    let mut body = ContainerCreateBody {
        config: ContainerConfig {
            hostname: opts.hostname.clone(),
            user: opts.user.clone(),
            attach_stdin,
            attach_stdout: attach,
            attach_stderr: attach,
            tty: opts.tty,
            open_stdin: opts.interactive,
            stdin_once: attach_stdin,
            env: (!env.is_empty()).then_some(env),
            cmd: (!opts.command.is_empty()).then(|| opts.command.clone()),
            image: opts.image.clone(),
            labels: (!opts.label.is_empty()).then(|| {
                opts.label
                    .iter()
                    .map(|l| match l.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (l.clone(), String::new()),
                    })
                    .collect()
            }),
            working_dir: opts.workdir.clone(),
            entrypoint: opts.entrypoint.as_ref().map(|e| {
                if e.is_empty() {
                    Vec::new()
                } else {
                    vec![e.clone()]
                }
            }),
            ..ContainerConfig::default()
        },
        host_config: HostConfig {
            memory,
            nano_cpus,
            pids_limit: opts.pids_limit,
            // Sent always, as the docker CLI does.
            oom_kill_disable: Some(opts.oom_kill_disable),
            restart_policy: Some(restart),
            auto_remove: opts.rm,
            network_mode: opts.network.clone(),
            readonly_rootfs: opts.read_only,
            security_opt: (!opts.security_opt.is_empty()).then(|| opts.security_opt.clone()),
            log_config: log_config(opts)?,
            ..HostConfig::default()
        },
    };
    super::update::fill_limits(&opts.limits, &mut body.host_config)?;
    super::process::fill_process(&opts.process, &mut body)?;
    body.config.healthcheck = super::health::healthcheck(&opts.health)?;
    super::volumes::add_mounts(
        &mut body,
        &opts.volume,
        &opts.mount,
        &opts.tmpfs,
        &opts.volumes_from,
    )?;
    super::network::fill_network_fields(opts, &mut body)?;
    Ok(body)
}

fn is_missing_image(error: &ClientError) -> bool {
    matches!(error, ClientError::Api { status: 404, message } if message.starts_with("No such image"))
}

/// Creates the container, pulling its image first when the daemon does not
/// have it (as `docker run` and `docker create` do): the progress goes to
/// stderr, so stdout stays the container's.
fn create_pulling(ctx: &Context, opts: &ContainerOptions, attach: bool) -> Result<String, Failure> {
    let body = container_create_body(opts, attach)?;
    let name = opts.name.as_deref();
    let created = match ctx.client.container_create(name, &body) {
        Err(e) if is_missing_image(&e) => {
            let familiar = crate::commands::images::familiar_with_tag(&opts.image);
            eprintln!("Unable to find image '{familiar}' locally");
            pull_image(ctx, &opts.image, true, false)
                .map_err(|f| Failure::new(format!("minidock: {}", f.message)).with_code(125))?;
            ctx.client.container_create(name, &body)
        }
        other => other,
    }
    .map_err(|e| Failure::new(format!("minidock: {}", describe(&e))).with_code(125))?;
    for warning in &created.warnings {
        eprintln!("WARNING: {warning}");
    }
    Ok(created.id)
}

/// Starts the container; a refusal exits 127, 126 or 125 by its message.
fn start(client: &Client, id: &str, remove_on_failure: bool) -> Result<(), Failure> {
    let Err(e) = client.container_start(id) else {
        return Ok(());
    };
    let message = describe(&e);
    if remove_on_failure {
        // It never ran, so it never exited: the daemon's removal on exit
        // does not apply. Remove it here, as `--rm` promises; a 404 means
        // the daemon was quicker.
        match client.container_remove(id, true) {
            Ok(()) | Err(ClientError::Api { status: 404, .. }) => {}
            Err(e) => eprintln!("minidock: removing {id}: {}", describe(&e)),
        }
    }
    Err(Failure::new(format!("minidock: {message}")).with_code(start_failure_code(&message)))
}

/// `minidock create`: prints the new container's id.
pub fn create(ctx: &Context, args: CreateArgs) -> Result<i32, Failure> {
    let id = create_pulling(ctx, &args.container, false)?;
    println!("{id}");
    Ok(0)
}

/// `minidock run`.
pub fn run(ctx: &Context, args: RunArgs) -> Result<i32, Failure> {
    let opts = &args.container;
    let stdin_is_terminal = std::io::stdin().is_terminal();
    if opts.tty && opts.interactive && !stdin_is_terminal && !args.detach {
        return Err(Failure::new("the input device is not a TTY"));
    }
    let detach_keys = resolve_detach_keys(args.detach_keys.as_deref())?;
    let attach = !args.detach;
    let id = create_pulling(ctx, opts, attach)?;
    let client = &ctx.client;
    let run_error =
        |e: ClientError| Failure::new(format!("minidock: {}", describe(&e))).with_code(125);

    if args.detach {
        start(client, &id, opts.rm)?;
        println!("{id}");
        return Ok(0);
    }

    // ANCHOR: run_flow
    let hijacked = client
        .container_attach(
            &id,
            &AttachOptions::live(opts.interactive).with_detach_keys(&detach_keys),
        )
        .map_err(run_error)?;
    let condition = if opts.rm {
        WaitCondition::Removed
    } else {
        WaitCondition::NextExit
    };
    let wait = client
        .container_wait_begin(&id, condition)
        .map_err(run_error)?;
    start(client, &id, opts.rm)?;
    let resize = opts.tty.then(|| TtyResize::Container {
        client: client.clone(),
        id: id.clone(),
    });
    let pumped = pump(
        hijacked,
        opts.interactive,
        opts.tty && opts.interactive && stdin_is_terminal,
        resize,
        opts.tty.then_some(detach_keys),
    )?;
    if pumped == Pumped::Detached {
        return Ok(0); // the container runs on, as after `docker run -it` and ctrl-p ctrl-q
    }
    let status = wait.finish().map_err(run_error)?;
    if let Some(error) = status.error {
        return Err(Failure::new(format!("minidock: {}", error.message)).with_code(125));
    }
    Ok(status.status_code as i32)
    // ANCHOR_END: run_flow
}

/// `--log-driver` and `--log-opt` as the API's `LogConfig`; absent when
/// neither is given (the daemon's default applies). An empty driver with
/// options is the daemon's default driver with those options.
fn log_config(opts: &ContainerOptions) -> Result<Option<LogConfig>, Failure> {
    if opts.log_driver.is_none() && opts.log_opt.is_empty() {
        return Ok(None);
    }
    let kind = opts.log_driver.clone().unwrap_or_default();
    if kind == "none" && !opts.log_opt.is_empty() {
        return Err(Failure::usage("invalid logging opts for driver none"));
    }
    let config = crate::daemon_logs::parse_opts(&opts.log_opt).map_err(Failure::usage)?;
    Ok(Some(LogConfig { kind, config }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use minidock_daemon::types::RestartPolicy;

    fn body(args: &[&str]) -> Result<ContainerCreateBody, Failure> {
        let cli = Cli::try_parse_from(["minidock", "run"].iter().chain(args)).unwrap();
        let Command::Run(crate::cli::Lazy(run)) = cli.command else {
            unreachable!()
        };
        container_create_body(&run.container, !run.detach)
    }

    #[test]
    fn flags_become_dockers_create_body() {
        let b = body(&[
            "-it",
            "--rm",
            "-e",
            "A=1",
            "-v",
            "/tmp:/data:ro",
            "-m",
            "64m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "20",
            "--network",
            "none",
            "-w",
            "/data",
            "-u",
            "65534",
            "-h",
            "box",
            "busybox",
            "sh",
            "-c",
            "exit 3",
        ])
        .unwrap();
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["Image"], "busybox");
        assert_eq!(json["Cmd"], serde_json::json!(["sh", "-c", "exit 3"]));
        assert_eq!(json["Tty"], true);
        assert_eq!(json["OpenStdin"], true);
        assert_eq!(json["AttachStdin"], true);
        assert_eq!(json["StdinOnce"], true);
        assert_eq!(json["Env"], serde_json::json!(["A=1"]));
        assert_eq!(json["WorkingDir"], "/data");
        assert_eq!(json["User"], "65534");
        assert_eq!(json["Hostname"], "box");
        let host = &json["HostConfig"];
        assert_eq!(host["Binds"], serde_json::json!(["/tmp:/data:ro"]));
        assert_eq!(host["Memory"], 64 * 1024 * 1024);
        assert_eq!(host["NanoCpus"], 500_000_000);
        assert_eq!(host["PidsLimit"], 20);
        assert_eq!(host["AutoRemove"], true);
        assert_eq!(host["NetworkMode"], "none");
        assert_eq!(host["RestartPolicy"]["Name"], "no");
    }

    #[test]
    fn detached_runs_do_not_attach() {
        let b = body(&["-d", "-i", "busybox"]).unwrap();
        assert!(!b.config.attach_stdin && !b.config.attach_stdout && b.config.open_stdin);
        assert_eq!(b.config.cmd, None);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["-v", "../data:/data", "busybox"][..],
            &["-v", "/a:b", "busybox"],
            &["--mount", "type=nfs,target=/x", "busybox"],
            &["--tmpfs", "/run:size=lots", "busybox"],
            &["-v", "/a:/b:rx", "busybox"],
            &["-m", "lots", "busybox"],
            &["--cpus", "x", "busybox"],
            &["--restart", "sometimes", "busybox"],
            &["--restart", "always:3", "busybox"],
            &["--rm", "--restart", "always", "busybox"],
            &["-e", "=x", "busybox"],
        ] {
            let failure = body(args).expect_err(&format!("{args:?} accepted"));
            assert_eq!(failure.code, 125, "{args:?}");
            assert!(failure.message.starts_with("minidock: "), "{failure}");
        }
        let b = body(&[
            "-v",
            "data:/data:ro",
            "-v",
            "/anon",
            "--mount",
            "type=tmpfs,target=/t,tmpfs-size=1m",
            "--tmpfs",
            "/run:size=64k",
            "--volumes-from",
            "other:ro",
            "busybox",
        ])
        .unwrap();
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(
            json["HostConfig"]["Binds"],
            serde_json::json!(["data:/data:ro"])
        );
        assert_eq!(json["Volumes"], serde_json::json!({"/anon": {}}));
        assert_eq!(
            json["HostConfig"]["Mounts"][0]["TmpfsOptions"]["SizeBytes"],
            1 << 20
        );
        assert_eq!(
            json["HostConfig"]["Tmpfs"],
            serde_json::json!({"/run": "size=64k"})
        );
        assert_eq!(
            json["HostConfig"]["VolumesFrom"],
            serde_json::json!(["other:ro"])
        );
        let b = body(&["--restart", "on-failure:3", "busybox"]).unwrap();
        assert_eq!(
            b.host_config.restart_policy,
            Some(RestartPolicy {
                name: "on-failure".into(),
                maximum_retry_count: 3
            })
        );
    }

    #[test]
    fn env_files_are_read_like_dockers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(
            &path,
            "# comment\n\nA=1\n  B=two words\nMINIDOCK_SURELY_UNSET_VAR\nPATH\n",
        )
        .unwrap();
        let env = read_env_file(path.to_str().unwrap()).unwrap();
        assert_eq!(env[..2], ["A=1".to_string(), "B=two words".to_string()]);
        assert_eq!(env.len(), 3, "{env:?}");
        assert!(env[2].starts_with("PATH="), "{env:?}");
        std::fs::write(&path, "BAD KEY=1\n").unwrap();
        assert!(read_env_file(path.to_str().unwrap()).is_err());
        assert!(read_env_file("/nonexistent/env").is_err());
    }
}
