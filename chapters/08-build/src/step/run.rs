//! RUN: a container of chapter 3 runs the command on the image so far;
//! its upper directory becomes the step's layer.

use std::fs;
use std::io;

use minidock_lifecycle::attach::{read_frame, Frame};
use minidock_lifecycle::config::{Bind, HostConfig, TmpfsMount, UserConfig};
use minidock_lifecycle::{CreateOptions, WaitCondition};

use crate::builder::{Message, PREDEFINED_ARGS};
use crate::cache;
use crate::compat::run_mount::{self, RunMount};
use crate::copy::{resolve_in_root, Packer};
use crate::diff::commit_layer;
use crate::dockerfile::{Args, Instruction};
use crate::error::{step_error, Error, IoContext, Result};
use crate::stage::Stage;

use super::StepCtx;

impl StepCtx<'_> {
    // ANCHOR: run
    pub(super) fn run(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
        let argv: Vec<String> = match &i.args {
            Args::Json(v) => v.clone(),
            Args::Shell(s) => stage.shell.iter().cloned().chain([s.clone()]).collect(),
        };
        // The build args a RUN sees are part of what it ran.
        let mut env: Vec<String> = stage.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for name in PREDEFINED_ARGS {
            if let Some(v) = self.options.build_args.get(*name) {
                env.push(format!("{name}={v}"));
            }
        }
        let created_by = if env.is_empty() {
            argv.join(" ")
        } else {
            format!("|{} {} {}", env.len(), env.join(" "), argv.join(" "))
        };
        let (host_config, mounts_key) = self.run_mounts(i)?;
        let parent = stage.state.id.clone().unwrap_or_default();
        let key = cache::key(&parent, &created_by, mounts_key.as_deref());
        if let Some(hit) = self.cached(&key)? {
            self.hit(stage, hit);
            return Ok(());
        }
        let Some(image) = stage.state.id.clone() else {
            return Err(step_error(
                i,
                "RUN needs an image with a shell: this stage is FROM scratch with nothing in it",
            ));
        };
        let runtime = self.builder.runtime();
        let targets: Vec<std::path::PathBuf> = (host_config.binds.iter())
            .map(|b| b.destination.clone())
            .chain(host_config.tmpfs.iter().map(|t| t.destination.clone()))
            .collect();
        let id = runtime.create(CreateOptions {
            image,
            name: None,
            config: UserConfig {
                entrypoint: Some(Vec::new()),
                cmd: Some(argv.clone()),
                env,
                working_dir: Some(stage.state.get_str("WorkingDir")).filter(|w| !w.is_empty()),
                user: Some(stage.state.get_str("User")).filter(|u| !u.is_empty()),
                ..UserConfig::default()
            },
            host_config,
        })?;
        // What the mounts will create to mount on, to take out of the layer.
        let merged = runtime.container_dir(&id).join("merged");
        let mount_points = run_mount::missing_mount_points(&merged, &targets);
        // The daemon's default network, when the builder has one.
        let wired = match self.builder.network() {
            Some(network) => crate::compat::network::wire(network, runtime, &id)
                .inspect_err(|_| drop(runtime.remove(&id, true)))?,
            None => None,
        };
        self.say(format!(" ---> Running in {}\n", id.short()));
        let result = self.run_container(&id, &argv);
        drop(wired);
        let remove = match &result {
            Ok(_) => self.options.remove || self.options.force_remove,
            Err(_) => self.options.force_remove,
        };
        let layer = result.and_then(|()| {
            let upper = runtime.container_dir(&id).join("upper");
            run_mount::remove_mount_points(&upper, &mount_points)
                .ctx("remove the mount points of", &upper)?;
            commit_layer(self.builder.store(), &upper, self.work)
        });
        if remove {
            runtime.remove(&id, true)?;
            self.say(format!("Removing intermediate container {}\n", id.short()));
        } else {
            (self.out)(Message::Kept(id.to_string()));
        }
        let mut next = stage.state.clone();
        next.add_history(&created_by, Some(layer?));
        self.done(stage, &key, next)
    }
    // ANCHOR_END: run

    // ANCHOR: run_mounts
    /// The mounts of a RUN's `--mount` flags, as the container's host
    /// config, and what of them goes into the cache key (the specs, and
    /// the content of bound context paths; `None` without mounts).
    pub(super) fn run_mounts(&self, i: &Instruction) -> Result<(HostConfig, Option<String>)> {
        let mut host = HostConfig::default();
        let mut key = String::new();
        for flag in i.flags.iter().filter(|f| f.name == "mount") {
            let spec = flag.value.as_deref().unwrap_or("");
            key.push_str(spec);
            key.push('\n');
            match run_mount::parse(spec).map_err(|e| step_error(i, e))? {
                RunMount::Cache {
                    id,
                    target,
                    read_only,
                } => {
                    let dir = run_mount::cache_dir(self.builder.cache().dir(), &id);
                    fs::create_dir_all(&dir).ctx("create", &dir)?;
                    host.binds.push(Bind {
                        source: dir,
                        destination: target,
                        read_only,
                        propagation: Default::default(),
                    });
                }
                RunMount::Bind { source, target } => {
                    let root = self.context.root();
                    let real = resolve_in_root(root, &source)
                        .map_err(|e| step_error(i, format!("--mount source {source}: {e}")))?;
                    let mut packer = Packer::new(io::sink(), None);
                    packer
                        .add(
                            &real,
                            "",
                            source.trim_matches('/'),
                            Some(self.context.ignore()),
                        )
                        .and_then(|()| packer.finish())
                        .map(|(_, hash)| key.push_str(&hash))
                        .map_err(|e| step_error(i, format!("--mount source {source}: {e}")))?;
                    host.binds.push(Bind {
                        source: real,
                        destination: target,
                        read_only: true,
                        propagation: Default::default(),
                    });
                }
                RunMount::Tmpfs { target, size } => host.tmpfs.push(TmpfsMount {
                    destination: target,
                    data: size.map(|s| format!("size={s}")).unwrap_or_default(),
                    read_only: false,
                    noexec: false,
                }),
            }
        }
        Ok((host, (!key.is_empty()).then_some(key)))
    }
    // ANCHOR_END: run_mounts

    // ANCHOR: run_container
    /// Starts a RUN container attached, streams its output, and fails
    /// unless it exits with 0.
    pub(super) fn run_container(
        &mut self,
        id: &minidock_lifecycle::ContainerId,
        argv: &[String],
    ) -> Result<()> {
        let runtime = self.builder.runtime();
        let mut stream = runtime.start_attached(id)?;
        let mut code = None;
        loop {
            match read_frame(&mut stream) {
                Ok(Some(Frame::Stdout(b))) | Ok(Some(Frame::Stderr(b))) => {
                    self.say(String::from_utf8_lossy(&b).into_owned());
                }
                Ok(Some(Frame::Exit(c))) => {
                    code = Some(c);
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let status = runtime.wait(id, WaitCondition::NotRunning)?;
        let code = code.unwrap_or(status.code);
        if code != 0 {
            return Err(Error::RunFailed {
                command: argv.join(" "),
                code,
            });
        }
        Ok(())
    }
    // ANCHOR_END: run_container
}
