//! In-memory fakes of the services and an in-process server on a temporary
//! socket: the protocol is tested without containers, images or root.
//!
//! The fake containers run a tiny command language in a thread:
//! `echo WORDS…` (stdout), `err WORDS…` (stderr), `exit N`, `cat` (stdin to
//! stdout until EOF), `sleep` (until killed or stopped), `slow MS WORDS…`
//! (waits, then echoes).

#![allow(dead_code)]

use minidock_client::Client;
use minidock_daemon::error::{ApiError, ApiResult};
use minidock_daemon::events::Events;
use minidock_daemon::frames::StreamType;
use minidock_daemon::query::Filters;
use minidock_daemon::server::{serve_unix, Api, DaemonFacts};
use minidock_daemon::service::*;
use minidock_daemon::types::*;
use minidock_daemon::wait::LifeState;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};

// ---------------------------------------------------------------- images

pub struct FakeImages {
    images: Mutex<BTreeMap<String, ImageInspect>>,
    events: Events,
}

pub fn normalise(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

fn fake_image(tag: &str) -> ImageInspect {
    let id = format!(
        "sha256:{:064x}",
        tag.len() as u64 * 7919 + tag.bytes().map(u64::from).sum::<u64>()
    );
    ImageInspect {
        id,
        repo_tags: vec![tag.to_string()],
        os: "linux".into(),
        architecture: "amd64".into(),
        created: "2024-05-01T12:00:00Z".into(),
        config: ImageConfig {
            cmd: Some(vec!["echo".into(), "default".into()]),
            ..ImageConfig::default()
        },
        root_fs: RootFs {
            kind: "layers".into(),
            layers: vec![],
        },
        size: 1234,
        ..ImageInspect::default()
    }
}

impl FakeImages {
    pub fn new(events: Events) -> FakeImages {
        let mut images = BTreeMap::new();
        images.insert("busybox:latest".to_string(), fake_image("busybox:latest"));
        FakeImages {
            images: Mutex::new(images),
            events,
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.images.lock().unwrap().contains_key(&normalise(name))
    }
}

/// Bytes that `save` writes: long enough to span several chunks.
pub fn saved_bytes(names: &[String]) -> Vec<u8> {
    let seed = names.join(",");
    (0..300_000u32)
        .map(|i| seed.as_bytes()[i as usize % seed.len()] ^ (i % 251) as u8)
        .collect()
}

impl ImageService for FakeImages {
    fn list(&self, _all: bool, _filters: &Filters) -> ApiResult<Vec<ImageSummary>> {
        Ok(self
            .images
            .lock()
            .unwrap()
            .values()
            .map(|i| ImageSummary {
                id: i.id.clone(),
                repo_tags: i.repo_tags.clone(),
                size: i.size,
                ..ImageSummary::default()
            })
            .collect())
    }

    fn inspect(&self, name: &str) -> ApiResult<ImageInspect> {
        self.images
            .lock()
            .unwrap()
            .get(&normalise(name))
            .cloned()
            .ok_or_else(|| ApiError::no_such_image(name))
    }

    fn history(&self, name: &str) -> ApiResult<Vec<HistoryItem>> {
        let image = self.inspect(name)?;
        Ok(vec![HistoryItem {
            id: image.id,
            created_by: "fake".into(),
            ..HistoryItem::default()
        }])
    }

    fn tag(&self, source: &str, repo: &str, tag: Option<&str>) -> ApiResult<()> {
        let image = self.inspect(source)?;
        let target = format!("{repo}:{}", tag.unwrap_or("latest"));
        let mut copy = image.clone();
        copy.repo_tags = vec![target.clone()];
        self.images.lock().unwrap().insert(target.clone(), copy);
        self.events.publish(
            "image",
            "tag",
            &image.id,
            BTreeMap::from([("name".to_string(), target)]),
        );
        Ok(())
    }

    fn remove(&self, name: &str, _force: bool) -> ApiResult<Vec<ImageDeleteItem>> {
        let key = normalise(name);
        let image = self
            .images
            .lock()
            .unwrap()
            .remove(&key)
            .ok_or_else(|| ApiError::no_such_image(name))?;
        Ok(vec![
            ImageDeleteItem::Untagged(key),
            ImageDeleteItem::Deleted(image.id),
        ])
    }

    fn pull(&self, request: &PullRequest<'_>, progress: Progress) -> ApiResult<()> {
        let (image, tag) = (request.image, request.tag);
        if image.starts_with("missing") {
            return Err(ApiError::NotFound(format!(
                "pull access denied for {image}, repository does not exist"
            )));
        }
        let tag = tag.unwrap_or("latest");
        progress(ProgressMessage::status(
            format!("Pulling from library/{image}"),
            Some(tag),
        ));
        progress(ProgressMessage::status(
            "Pulling fs layer",
            Some("0123456789ab"),
        ));
        for step in 1..=4 {
            progress(ProgressMessage::progress(
                "Downloading",
                "0123456789ab",
                step * 250,
                1000,
            ));
        }
        if image.starts_with("flaky") {
            return Err(ApiError::Internal(
                "unexpected EOF from the registry".to_string(),
            ));
        }
        progress(ProgressMessage::status(
            "Pull complete",
            Some("0123456789ab"),
        ));
        let full = format!("{image}:{tag}");
        self.images
            .lock()
            .unwrap()
            .insert(full.clone(), fake_image(&full));
        progress(ProgressMessage::status(
            format!("Status: Downloaded newer image for {full}"),
            None,
        ));
        Ok(())
    }

    fn push(
        &self,
        name: &str,
        _tag: Option<&str>,
        _auth: Option<&RegistryAuth>,
        progress: Progress,
    ) -> ApiResult<()> {
        self.inspect(name)?;
        progress(ProgressMessage::status("Pushed", Some("0123456789ab")));
        Ok(())
    }

    fn import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
        progress: Progress,
    ) -> ApiResult<()> {
        let mut bytes = Vec::new();
        source.read_to_end(&mut bytes).map_err(ApiError::internal)?;
        let name = format!("{}:{}", repo.unwrap_or("imported"), tag.unwrap_or("latest"));
        let mut image = fake_image(&name);
        image.size = bytes.len() as i64;
        let id = image.id.clone();
        self.images.lock().unwrap().insert(name, image);
        progress(ProgressMessage::status(id, None));
        Ok(())
    }

    fn load(&self, tar: &mut dyn Read, progress: Progress) -> ApiResult<()> {
        let mut bytes = Vec::new();
        tar.read_to_end(&mut bytes).map_err(ApiError::internal)?;
        if bytes.is_empty() {
            return Err(ApiError::BadParameter("empty tar".into()));
        }
        progress(ProgressMessage::stream(format!(
            "Loaded {} bytes\n",
            bytes.len()
        )));
        Ok(())
    }

    fn save(&self, names: &[String], out: &mut dyn Write) -> ApiResult<()> {
        for name in names {
            self.inspect(name)?;
        }
        for chunk in saved_bytes(names).chunks(10_000) {
            out.write_all(chunk).map_err(ApiError::internal)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- containers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Created,
    Running,
    Paused,
    Exited,
}

struct Container {
    id: String,
    name: String,
    body: ContainerCreateBody,
    image_id: String,
    created: SystemTime,
    status: Status,
    exit_code: i64,
    life: watch::Sender<LifeState>,
    log: Vec<LogEntry>,
    listeners: Vec<mpsc::Sender<Output>>,
    followers: Vec<mpsc::Sender<LogEntry>>,
    stdin: Option<mpsc::Sender<Vec<u8>>>,
    stdin_rx: Option<mpsc::Receiver<Vec<u8>>>,
    kill: Option<std_mpsc::Sender<i64>>,
}

struct Exec {
    container: String,
    config: ExecConfig,
    exit_code: Option<i64>,
    running: bool,
}

struct State {
    containers: HashMap<String, Container>,
    execs: HashMap<String, Exec>,
    counter: u64,
}

/// A machine of the tests' own, so `/info` shows what the fake says.
pub struct FakeHost;

/// The facts [`FakeHost`] reports.
pub fn fake_host_facts() -> HostFacts {
    HostFacts {
        kernel_version: "6.1.0-fake".into(),
        architecture: "x86_64".into(),
        operating_system: "Fake Linux 1".into(),
        mem_total: 2 << 30,
        ncpu: 3,
        cgroup_version: "2".into(),
        hostname: "fakehost".into(),
        open_fds: 7,
    }
}

impl HostService for FakeHost {
    fn facts(&self) -> HostFacts {
        fake_host_facts()
    }
}

pub struct FakeContainers {
    state: Arc<Mutex<State>>,
    images: Arc<FakeImages>,
    events: Events,
}

fn command_of(body: &ContainerCreateBody) -> Vec<String> {
    let mut cmd = body.config.entrypoint.clone().unwrap_or_default();
    cmd.extend(body.config.cmd.clone().unwrap_or_default());
    cmd
}

/// Runs the fake command language; `write` gets output, returns the code.
fn interpret(
    cmd: &[String],
    mut stdin: Option<mpsc::Receiver<Vec<u8>>>,
    kill: &std_mpsc::Receiver<i64>,
    write: &mut dyn FnMut(StreamType, Vec<u8>),
) -> i64 {
    let words = |from: usize| format!("{}\n", cmd[from.min(cmd.len())..].join(" ")).into_bytes();
    match cmd.first().map(String::as_str) {
        Some("echo") => {
            write(StreamType::Stdout, words(1));
            0
        }
        Some("err") => {
            write(StreamType::Stderr, words(1));
            0
        }
        Some("both") => {
            write(StreamType::Stdout, b"to stdout\n".to_vec());
            write(StreamType::Stderr, b"to stderr\n".to_vec());
            write(StreamType::Stdout, b"stdout again\n".to_vec());
            0
        }
        Some("exit") => cmd.get(1).and_then(|c| c.parse().ok()).unwrap_or(1),
        Some("slow") => {
            let ms = cmd.get(1).and_then(|c| c.parse().ok()).unwrap_or(100);
            if let Ok(code) = kill.recv_timeout(Duration::from_millis(ms)) {
                return code;
            }
            write(StreamType::Stdout, words(2));
            0
        }
        Some("sleep") => kill.recv().unwrap_or(137),
        Some("cat") => loop {
            if let Ok(code) = kill.try_recv() {
                return code;
            }
            let Some(rx) = stdin.as_mut() else { return 0 };
            match rx.try_recv() {
                Ok(data) => write(StreamType::Stdout, data),
                Err(mpsc::error::TryRecvError::Disconnected) => return 0,
                Err(mpsc::error::TryRecvError::Empty) => {
                    std::thread::sleep(Duration::from_millis(2))
                }
            }
        },
        _ => 127,
    }
}

impl FakeContainers {
    pub fn new(images: Arc<FakeImages>, events: Events) -> FakeContainers {
        FakeContainers {
            state: Arc::new(Mutex::new(State {
                containers: HashMap::new(),
                execs: HashMap::new(),
                counter: 0,
            })),
            images,
            events,
        }
    }

    fn resolve(state: &State, id: &str) -> ApiResult<String> {
        if state.containers.contains_key(id) {
            return Ok(id.to_string());
        }
        let matches: Vec<&String> = state
            .containers
            .values()
            .filter(|c| c.name == id || c.id.starts_with(id))
            .map(|c| &c.id)
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ApiError::no_such_container(id)),
            _ => Err(ApiError::BadParameter(format!(
                "multiple IDs found with provided prefix: {id}"
            ))),
        }
    }

    fn publish(&self, action: &str, id: &str, name: &str) {
        self.events.publish(
            "container",
            action,
            id,
            BTreeMap::from([("name".to_string(), name.to_string())]),
        );
    }

    fn remove_now(state: &mut State, id: &str) {
        if let Some(c) = state.containers.remove(id) {
            c.life.send_modify(|l| l.removed = true);
        }
    }
}

impl ContainerService for FakeContainers {
    fn create(
        &self,
        name: Option<&str>,
        body: ContainerCreateBody,
    ) -> ApiResult<ContainerCreateResponse> {
        let image = self
            .images
            .inspect(&body.config.image)
            .map_err(|_| ApiError::no_such_image(&normalise(&body.config.image)))?;
        let mut state = self.state.lock().unwrap();
        state.counter += 1;
        let id = format!("{:064x}", 0xc0ffee_u64 * 1_000_003 + state.counter);
        let name = name
            .map(str::to_owned)
            .unwrap_or_else(|| format!("fake_{}", state.counter));
        if let Some(other) = state.containers.values().find(|c| c.name == name) {
            return Err(ApiError::Conflict(format!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{}\". \
                 You have to remove (or rename) that container to be able to reuse that name.",
                other.id
            )));
        }
        let (stdin, stdin_rx) = if body.config.open_stdin {
            let (tx, rx) = mpsc::channel(16);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let mut body = body;
        if body.config.cmd.is_none() && body.config.entrypoint.is_none() {
            body.config.cmd = image.config.cmd.clone();
        }
        state.containers.insert(
            id.clone(),
            Container {
                id: id.clone(),
                name: name.clone(),
                body,
                image_id: image.id,
                created: SystemTime::now(),
                status: Status::Created,
                exit_code: 0,
                life: watch::channel(LifeState::default()).0,
                log: Vec::new(),
                listeners: Vec::new(),
                followers: Vec::new(),
                stdin,
                stdin_rx,
                kill: None,
            },
        );
        drop(state);
        self.publish("create", &id, &name);
        Ok(ContainerCreateResponse {
            id,
            warnings: vec![],
        })
    }

    fn list(&self, options: &ListOptions) -> ApiResult<Vec<ContainerSummary>> {
        let state = self.state.lock().unwrap();
        let mut list: Vec<ContainerSummary> = state
            .containers
            .values()
            .filter(|c| options.all || matches!(c.status, Status::Running | Status::Paused))
            .map(|c| ContainerSummary {
                id: c.id.clone(),
                names: vec![format!("/{}", c.name)],
                image: c.body.config.image.clone(),
                image_id: c.image_id.clone(),
                command: command_of(&c.body).join(" "),
                created: minidock_daemon::time::unix_seconds(c.created),
                state: match c.status {
                    Status::Created => "created",
                    Status::Running => "running",
                    Status::Paused => "paused",
                    Status::Exited => "exited",
                }
                .to_string(),
                ..ContainerSummary::default()
            })
            .collect();
        list.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(list)
    }

    fn inspect(&self, id: &str) -> ApiResult<ContainerInspect> {
        let state = self.state.lock().unwrap();
        let c = &state.containers[&Self::resolve(&state, id)?];
        Ok(ContainerInspect {
            id: c.id.clone(),
            name: format!("/{}", c.name),
            image: c.image_id.clone(),
            state: ContainerState {
                status: format!("{:?}", c.status).to_lowercase(),
                running: matches!(c.status, Status::Running | Status::Paused),
                paused: c.status == Status::Paused,
                exit_code: c.exit_code,
                ..ContainerState::default()
            },
            config: c.body.config.clone(),
            host_config: c.body.host_config.clone(),
            ..ContainerInspect::default()
        })
    }

    fn start(&self, id: &str) -> ApiResult<bool> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        let c = state.containers.get_mut(&id).unwrap();
        if matches!(c.status, Status::Running | Status::Paused) {
            return Ok(false);
        }
        c.status = Status::Running;
        c.life.send_modify(|l| l.running = true);
        let (kill_tx, kill_rx) = std_mpsc::channel();
        c.kill = Some(kill_tx);
        let cmd = command_of(&c.body);
        let stdin = c.stdin_rx.take();
        let name = c.name.clone();
        drop(state);
        self.publish("start", &id, &name);
        let shared = self.state.clone();
        let events = self.events.clone();
        std::thread::spawn(move || {
            let mut write = |stream: StreamType, data: Vec<u8>| {
                let mut state = shared.lock().unwrap();
                let Some(c) = state.containers.get_mut(&id) else {
                    return;
                };
                let entry = LogEntry {
                    stream,
                    time: SystemTime::now(),
                    data: data.clone(),
                };
                c.log.push(entry.clone());
                c.listeners.retain(|l| {
                    l.blocking_send(Output {
                        stream,
                        data: data.clone(),
                    })
                    .is_ok()
                });
                c.followers
                    .retain(|f| f.blocking_send(entry.clone()).is_ok());
            };
            let code = interpret(&cmd, stdin, &kill_rx, &mut write);
            let mut state = shared.lock().unwrap();
            let Some(c) = state.containers.get_mut(&id) else {
                return;
            };
            c.status = Status::Exited;
            c.exit_code = code;
            c.kill = None;
            c.listeners.clear();
            c.followers.clear();
            c.life.send_modify(|l| {
                l.running = false;
                l.exits += 1;
                l.exit_code = code;
            });
            let auto_remove = c.body.host_config.auto_remove;
            let name = c.name.clone();
            events.publish(
                "container",
                "die",
                &id,
                BTreeMap::from([("name".to_string(), name.clone())]),
            );
            if auto_remove {
                FakeContainers::remove_now(&mut state, &id);
                events.publish(
                    "container",
                    "destroy",
                    &id,
                    BTreeMap::from([("name".to_string(), name)]),
                );
            }
        });
        Ok(true)
    }

    fn stop(&self, id: &str, _options: &StopOptions) -> ApiResult<bool> {
        let state = self.state.lock().unwrap();
        let c = &state.containers[&Self::resolve(&state, id)?];
        match &c.kill {
            Some(kill) => {
                kill.send(143).ok();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn restart(&self, id: &str, options: &StopOptions) -> ApiResult<()> {
        self.stop(id, options)?;
        std::thread::sleep(Duration::from_millis(50));
        self.start(id).map(|_| ())
    }

    fn kill(&self, id: &str, _signal: Option<&str>) -> ApiResult<()> {
        let state = self.state.lock().unwrap();
        let c = &state.containers[&Self::resolve(&state, id)?];
        match &c.kill {
            Some(kill) => {
                kill.send(137).ok();
                Ok(())
            }
            None => Err(ApiError::not_running(&c.id)),
        }
    }

    fn pause(&self, id: &str) -> ApiResult<()> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        let c = state.containers.get_mut(&id).unwrap();
        if c.status != Status::Running {
            return Err(ApiError::not_running(&id));
        }
        c.status = Status::Paused;
        Ok(())
    }

    fn unpause(&self, id: &str) -> ApiResult<()> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        let c = state.containers.get_mut(&id).unwrap();
        if c.status != Status::Paused {
            return Err(ApiError::Conflict(format!("Container {id} is not paused")));
        }
        c.status = Status::Running;
        Ok(())
    }

    fn remove(&self, id: &str, force: bool) -> ApiResult<()> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        let c = &state.containers[&id];
        if matches!(c.status, Status::Running | Status::Paused) {
            if !force {
                return Err(ApiError::Conflict(format!(
                    "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                    c.name
                )));
            }
            if let Some(kill) = &c.kill {
                kill.send(137).ok();
            }
        }
        let name = c.name.clone();
        FakeContainers::remove_now(&mut state, &id);
        drop(state);
        self.publish("destroy", &id, &name);
        Ok(())
    }

    fn watch(&self, id: &str) -> ApiResult<watch::Receiver<LifeState>> {
        let state = self.state.lock().unwrap();
        Ok(state.containers[&Self::resolve(&state, id)?]
            .life
            .subscribe())
    }

    fn logs(&self, id: &str, options: &LogsOptions) -> ApiResult<LogStream> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        let c = state.containers.get_mut(&id).unwrap();
        let wanted = |e: &LogEntry| match e.stream {
            StreamType::Stdout => options.stdout,
            StreamType::Stderr => options.stderr,
            _ => false,
        };
        let mut entries: Vec<LogEntry> = c.log.iter().filter(|e| wanted(e)).cloned().collect();
        if let Some(tail) = options.tail {
            let skip = entries.len().saturating_sub(tail);
            entries.drain(..skip);
        }
        let (tx, rx) = mpsc::channel(entries.len() + 16);
        for e in entries {
            tx.try_send(e).unwrap();
        }
        if options.follow && matches!(c.status, Status::Running | Status::Paused | Status::Created)
        {
            c.followers.push(tx);
        }
        Ok(LogStream {
            tty: c.body.config.tty,
            entries: rx,
        })
    }

    fn attach(&self, id: &str, options: &AttachOptions) -> ApiResult<AttachStream> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        let c = state.containers.get_mut(&id).unwrap();
        let (tx, rx) = mpsc::channel(64);
        if options.logs {
            for e in &c.log {
                tx.try_send(Output {
                    stream: e.stream,
                    data: e.data.clone(),
                })
                .ok();
            }
        }
        if options.stream && c.status != Status::Exited {
            c.listeners.push(tx);
        }
        Ok(AttachStream {
            tty: c.body.config.tty,
            output: rx,
            stdin: if options.stdin { c.stdin.take() } else { None },
            detach_keys: Default::default(),
        })
    }

    fn resize(&self, id: &str, _height: u16, _width: u16) -> ApiResult<()> {
        let state = self.state.lock().unwrap();
        Self::resolve(&state, id).map(|_| ())
    }

    fn top(&self, id: &str, _ps_args: Option<&str>) -> ApiResult<TopResponse> {
        let state = self.state.lock().unwrap();
        let c = &state.containers[&Self::resolve(&state, id)?];
        if c.status != Status::Running {
            return Err(ApiError::not_running(&c.id));
        }
        Ok(TopResponse {
            titles: vec!["PID".into(), "CMD".into()],
            processes: vec![vec!["1".into(), command_of(&c.body).join(" ")]],
        })
    }

    fn stats(&self, id: &str) -> ApiResult<ContainerStats> {
        let state = self.state.lock().unwrap();
        let c = &state.containers[&Self::resolve(&state, id)?];
        Ok(ContainerStats {
            name: format!("/{}", c.name),
            id: c.id.clone(),
            read: minidock_daemon::time::rfc3339(SystemTime::now()),
            preread: minidock_daemon::time::ZERO_TIME.into(),
            memory_stats: MemoryStats {
                usage: 4096,
                limit: 1 << 30,
                ..MemoryStats::default()
            },
            ..ContainerStats::default()
        })
    }

    fn exec_create(&self, id: &str, config: ExecConfig) -> ApiResult<String> {
        let mut state = self.state.lock().unwrap();
        let id = Self::resolve(&state, id)?;
        if state.containers[&id].status != Status::Running {
            return Err(ApiError::not_running(&id));
        }
        state.counter += 1;
        let exec_id = format!("{:064x}", 0xe1ec_u64 * 1_000_003 + state.counter);
        state.execs.insert(
            exec_id.clone(),
            Exec {
                container: id,
                config,
                exit_code: None,
                running: false,
            },
        );
        Ok(exec_id)
    }

    fn exec_start(
        &self,
        exec_id: &str,
        config: &ExecStartConfig,
    ) -> ApiResult<Option<AttachStream>> {
        let mut state = self.state.lock().unwrap();
        let exec = state
            .execs
            .get_mut(exec_id)
            .ok_or_else(|| ApiError::no_such_exec(exec_id))?;
        exec.running = true;
        let cmd = exec.config.cmd.clone();
        let tty = exec.config.tty;
        let (stdin_tx, stdin_rx) = if exec.config.attach_stdin {
            let (tx, rx) = mpsc::channel(16);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let (out_tx, out_rx) = mpsc::channel(64);
        let shared = self.state.clone();
        let exec_id = exec_id.to_string();
        std::thread::spawn(move || {
            let (_kill_tx, kill_rx) = std_mpsc::channel();
            let mut write = |stream, data| {
                out_tx.blocking_send(Output { stream, data }).ok();
            };
            let code = interpret(&cmd, stdin_rx, &kill_rx, &mut write);
            let mut state = shared.lock().unwrap();
            if let Some(exec) = state.execs.get_mut(&exec_id) {
                exec.running = false;
                exec.exit_code = Some(code);
            }
        });
        if config.detach {
            return Ok(None);
        }
        Ok(Some(AttachStream {
            tty,
            output: out_rx,
            stdin: stdin_tx,
            detach_keys: Default::default(),
        }))
    }

    fn exec_inspect(&self, exec_id: &str) -> ApiResult<ExecInspect> {
        let state = self.state.lock().unwrap();
        let exec = state
            .execs
            .get(exec_id)
            .ok_or_else(|| ApiError::no_such_exec(exec_id))?;
        Ok(ExecInspect {
            id: exec_id.to_string(),
            container_id: exec.container.clone(),
            running: exec.running,
            exit_code: exec.exit_code,
            ..ExecInspect::default()
        })
    }

    fn exec_resize(&self, exec_id: &str, _height: u16, _width: u16) -> ApiResult<()> {
        let state = self.state.lock().unwrap();
        state
            .execs
            .get(exec_id)
            .map(|_| ())
            .ok_or_else(|| ApiError::no_such_exec(exec_id))
    }
}

// ---------------------------------------------------------------- server

/// A server on a temporary socket, served by a runtime on its own thread.
pub struct TestServer {
    pub client: Client,
    pub socket: PathBuf,
    pub images: Arc<FakeImages>,
    pub events: Events,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("d.sock");
        let listener = minidock_daemon::listen::bind_unix(&socket, None).unwrap();
        listener.set_nonblocking(true).unwrap();
        let events = Events::new();
        let images = Arc::new(FakeImages::new(events.clone()));
        let containers = Arc::new(FakeContainers::new(images.clone(), events.clone()));
        let api = Arc::new(Api {
            images: images.clone(),
            containers,
            host: Arc::new(FakeHost),
            networks: None,
            volumes: None,
            build: None,
            events: events.clone(),
            facts: DaemonFacts {
                id: "test".into(),
                root: dir.path().to_path_buf(),
                debug: Default::default(),
                container_defaults: Default::default(),
                registry: Default::default(),
            },
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::UnixListener::from_std(listener).unwrap();
                serve_unix(listener, api, async {
                    stop_rx.await.ok();
                })
                .await;
            });
        });
        TestServer {
            client: Client::new(&socket),
            socket,
            images,
            events,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// A create body running `cmd` in busybox.
pub fn body(cmd: &[&str]) -> ContainerCreateBody {
    ContainerCreateBody {
        config: ContainerConfig {
            image: "busybox".into(),
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            attach_stdout: true,
            attach_stderr: true,
            ..ContainerConfig::default()
        },
        host_config: HostConfig::default(),
    }
}
