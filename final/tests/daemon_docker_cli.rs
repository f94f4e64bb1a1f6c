//! Real clients against `minidockd`: the `docker` CLI and docker-py, each
//! checked for what it really prints.

mod common;

use common::{docker_cli_available, eventually, ok, stderr, stdout, Daemon};
use minidock_testkit::{random_name, Registry};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
}

/// A registry holding the busybox test image as `repo:latest`.
fn registry_with_busybox(repos: &[&str]) -> Registry {
    let registry = Registry::start();
    for repo in repos {
        registry.push_busybox(repo, "latest");
    }
    registry
}

#[test]
fn the_docker_cli_drives_minidockd() {
    if !docker_cli_available() {
        return;
    }
    let repo = random_name("bb");
    let other = random_name("bb");
    let registry = registry_with_busybox(&[&repo, &other]);
    let daemon = Daemon::start();
    let image = format!("{}/{repo}:latest", registry.addr());

    // version and info
    let version = ok(daemon.docker().args([
        "version",
        "--format",
        "{{.Server.Platform.Name}} {{.Server.APIVersion}}",
    ]));
    assert_eq!(version.trim(), "minidock 1.44");
    let info = ok(daemon.docker().args([
        "info",
        "--format",
        "{{.OSType}} {{.Driver}} {{.Containers}}",
    ]));
    assert_eq!(info.trim(), "linux overlay 0");

    // pull, images, tag
    let pulled = ok(daemon.docker().args(["pull", &image]));
    assert!(
        pulled.contains(&format!("latest: Pulling from {repo}")),
        "{pulled}"
    );
    assert!(pulled.contains("Digest: sha256:"), "{pulled}");
    assert!(
        pulled.contains(&format!("Status: Downloaded newer image for {image}")),
        "{pulled}"
    );
    assert_eq!(pulled.lines().last(), Some(image.as_str()), "{pulled}");
    ok(daemon.docker().args(["tag", &image, "busybox"]));
    let images = ok(daemon
        .docker()
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}"]));
    let mut listed: Vec<&str> = images.lines().collect();
    listed.sort();
    let mut expected = vec!["busybox:latest".to_string(), image.clone()];
    expected.sort();
    assert_eq!(listed, expected);

    // run --rm: output and exit code
    let hello = run(daemon
        .docker()
        .args(["run", "--rm", "busybox", "echo", "hello"]));
    assert_eq!(
        (hello.status.code(), stdout(&hello)),
        (Some(0), "hello\n".to_string())
    );
    let failed = run(daemon.docker().args([
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo oops >&2; exit 42",
    ]));
    assert_eq!(failed.status.code(), Some(42));
    assert_eq!(stderr(&failed), "oops\n");

    // run -i with piped stdin
    let mut child = daemon
        .docker()
        .args([
            "run",
            "-i",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat; echo end >&2",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped line\n")
        .unwrap();
    let piped = child.wait_with_output().unwrap();
    assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
    assert_eq!(stdout(&piped), "piped line\n");
    assert_eq!(stderr(&piped), "end\n");

    // --read-only and --security-opt, as the docker CLI sends them
    let secured = run(daemon.docker().args([
        "run",
        "--rm",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "sh",
        "-c",
        "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr '\\t\\n' '  '; touch /x",
    ]));
    assert_eq!(
        (secured.status.code(), stdout(&secured)),
        (Some(1), "NoNewPrivs: 1 Seccomp: 0 ".to_string()),
        "{}",
        stderr(&secured)
    );
    assert!(stderr(&secured).contains("Read-only file system"));

    // what minidock cannot do is refused by name, never silently dropped
    for (flags, field) in [
        (&["--device", "/dev/loop0"][..], "HostConfig.Devices"),
        (&["--blkio-weight", "300"][..], "HostConfig.BlkioWeight"),
        (&["--cgroupns", "private"][..], "HostConfig.CgroupnsMode"),
    ] {
        let refused = run(daemon
            .docker()
            .args(["run", "--rm"])
            .args(flags)
            .args(["busybox", "true"]));
        assert_eq!(refused.status.code(), Some(125), "{flags:?}");
        assert!(
            stderr(&refused).contains(&format!("{field} is not supported")),
            "{flags:?}: {}",
            stderr(&refused)
        );
    }

    // run of an image that is not there: the CLI pulls it first
    let elsewhere = format!("{}/{other}", registry.addr());
    let pulled_run = run(daemon
        .docker()
        .args(["run", "--rm", &elsewhere, "echo", "pulled"]));
    assert_eq!(pulled_run.status.code(), Some(0), "{}", stderr(&pulled_run));
    assert_eq!(stdout(&pulled_run).lines().last(), Some("pulled"));
    assert!(
        stderr(&pulled_run).contains("Unable to find image"),
        "{}",
        stderr(&pulled_run)
    );

    // run -d, ps, logs, exec
    let id = ok(daemon.docker().args([
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "echo ready; while true; do sleep 1; done",
    ]));
    let id = id.trim();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let ps = ok(daemon.docker().args([
        "ps",
        "--format",
        "{{.ID}} {{.Names}} {{.Image}} {{.Status}}",
    ]));
    assert!(
        ps.starts_with(&format!("{} web busybox Up ", &id[..12])),
        "{ps}"
    );
    eventually(std::time::Duration::from_secs(30), "the log line", || {
        ok(daemon.docker().args(["logs", "web"])) == "ready\n"
    });
    assert_eq!(
        ok(daemon
            .docker()
            .args(["exec", "web", "sh", "-c", "echo $((1+2))"])),
        "3\n"
    );
    let exec_code = run(daemon.docker().args(["exec", "web", "sh", "-c", "exit 3"]));
    assert_eq!(exec_code.status.code(), Some(3));

    // docker cp, both ways
    let scratch = daemon.scratch();
    std::fs::write(scratch.join("to-web.txt"), "via docker cp\n").unwrap();
    let local = scratch.join("to-web.txt").display().to_string();
    ok(daemon.docker().args(["cp", &local, "web:/tmp/"]));
    assert_eq!(
        ok(daemon
            .docker()
            .args(["exec", "web", "cat", "/tmp/to-web.txt"])),
        "via docker cp\n"
    );
    let back = scratch.join("back.txt").display().to_string();
    ok(daemon.docker().args(["cp", "web:/tmp/to-web.txt", &back]));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "via docker cp\n");
    // docker rename, there and back
    ok(daemon.docker().args(["rename", "web", "web2"]));
    assert_eq!(
        ok(daemon.docker().args(["ps", "--format", "{{.Names}}"])),
        "web2\n"
    );
    ok(daemon.docker().args(["rename", "web2", "web"]));

    // docker diff: the copied file is the container's only change
    assert_eq!(
        ok(daemon.docker().args(["diff", "web"])),
        "C /tmp\nA /tmp/to-web.txt\n"
    );
    let missing = run(daemon.docker().args(["cp", "web:/nope", &back]));
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("Could not find the file /nope"),
        "{}",
        stderr(&missing)
    );

    // pause, unpause, stop, inspect, rm, rmi
    assert_eq!(ok(daemon.docker().args(["pause", "web"])), "web\n");
    let paused = ok(daemon.docker().args(["ps", "--format", "{{.Status}}"]));
    assert!(paused.trim_end().ends_with("(Paused)"), "{paused}");
    assert_eq!(ok(daemon.docker().args(["unpause", "web"])), "web\n");
    assert_eq!(
        ok(daemon.docker().args(["stop", "-t", "1", "web"])),
        "web\n"
    );
    let inspect = ok(daemon.docker().args([
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.ExitCode}} {{.Name}} {{.Config.Image}}",
        "web",
    ]));
    assert_eq!(inspect.trim(), "exited 137 /web busybox");
    let all = ok(daemon
        .docker()
        .args(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]));
    assert!(all.starts_with("web Exited (137) "), "{all}");
    // docker container prune: the exited web goes, with its id
    let pruned = ok(daemon.docker().args(["container", "prune", "-f"]));
    assert!(
        pruned.starts_with(&format!(
            "Deleted Containers:\n{id}\n\nTotal reclaimed space: "
        )),
        "{pruned}"
    );
    let missing = run(daemon.docker().args(["inspect", "web"]));
    assert_eq!(missing.status.code(), Some(1));
    ok(daemon
        .docker()
        .args(["create", "--name", "web", "busybox", "true"]));
    assert_eq!(ok(daemon.docker().args(["rm", "web"])), "web\n");
    assert_eq!(
        ok(daemon.docker().args(["rmi", "busybox"])),
        "Untagged: busybox:latest\n"
    );
    let missing = run(daemon.docker().args(["inspect", "web"]));
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("No such object: web"),
        "{}",
        stderr(&missing)
    );
    assert!(ok(daemon.docker().args(["ps", "-aq"])).is_empty());
}

/// `docker login` asks the daemon's `/auth` to check the credentials with
/// the registry before it saves them; `docker pull` then sends them.
#[test]
fn docker_login_is_checked_by_the_daemon() {
    if !docker_cli_available() {
        return;
    }
    let user = random_name("user");
    let password = random_name("pw");
    let registry = Registry::start_with_basic_auth(&user, &password);
    let repo = random_name("private");
    registry.push_busybox(&repo, "latest");
    let daemon = Daemon::start();
    let image = format!("{}/{repo}:latest", registry.addr());

    let login = |secret: &str| {
        let mut cmd = daemon.docker();
        cmd.args(["login", "-u", &user, "--password-stdin", &registry.addr()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start docker login");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{secret}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    let wrong = login("not-the-password");
    assert_ne!(wrong.status.code(), Some(0), "{wrong:?}");
    assert!(
        stderr(&wrong).contains("Error response from daemon")
            && stderr(&wrong).contains("wrong user name or password"),
        "{}",
        stderr(&wrong)
    );
    let refused = run(daemon.docker().args(["pull", &image]));
    assert_ne!(refused.status.code(), Some(0), "{refused:?}");

    let right = login(&password);
    assert_eq!(right.status.code(), Some(0), "{right:?}");
    assert!(stdout(&right).contains("Login Succeeded"), "{right:?}");
    let pulled = ok(daemon.docker().args(["pull", &image]));
    assert!(pulled.contains("Digest: sha256:"), "{pulled}");
}

/// The Python venv with docker-py.
fn docker_py() -> PathBuf {
    let venv = PathBuf::from(
        std::env::var("MINIDOCK_DOCKER_PY_VENV")
            .unwrap_or_else(|_| "/tmp/minidock-venv".to_string()),
    );
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import docker"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ready,
        "docker-py is not installed in {}: create it with\n  python3 -m venv {0} && {0}/bin/pip install docker\n\
         (or point MINIDOCK_DOCKER_PY_VENV at a venv that has it)",
        venv.display()
    );
    python
}

#[test]
fn docker_py_pulls_and_runs_with_remove() {
    let python = docker_py();
    let repo = random_name("bb");
    let registry = registry_with_busybox(&[&repo]);
    let daemon = Daemon::start();
    let script = r#"
import sys, docker
client = docker.DockerClient(base_url="unix://" + sys.argv[1])
image = client.images.pull(sys.argv[2], tag="latest")
print("pulled", image.tags)
out = client.containers.run(sys.argv[2] + ":latest", ["sh", "-c", "echo from docker-py; echo more"], remove=True)
print("output", repr(out.decode()))
print("left", len(client.containers.list(all=True)))
try:
    client.containers.run(sys.argv[2] + ":latest", ["sh", "-c", "exit 5"], remove=True)
except docker.errors.ContainerError as e:
    print("error", e.exit_status)
# cp both ways, diff, top, rename, prune: docker-py's own parsing of our answers
import io, tarfile
box = client.containers.run(sys.argv[2] + ":latest", ["sleep", "1000"], detach=True, name="pybox")
data = io.BytesIO()
with tarfile.open(fileobj=data, mode="w") as t:
    info = tarfile.TarInfo("hello.txt"); payload = b"hi from python\n"; info.size = len(payload)
    t.addfile(info, io.BytesIO(payload))
print("put", box.put_archive("/tmp", data.getvalue()))
stream, stat = box.get_archive("/tmp/hello.txt")
with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
    print("got", stat["name"], t.extractfile("hello.txt").read().decode().strip())
print("diff", sorted((c["Kind"], c["Path"]) for c in box.diff()))
print("top", box.top()["Titles"][1], any("sleep 1000" in p[-1] for p in box.top()["Processes"]))
box.rename("pybox2")
box.reload()
print("renamed", box.name)
box.kill()
box.wait()
print("pruned", client.containers.prune()["ContainersDeleted"] == [box.id])
"#;
    let image = format!("{}/{repo}", registry.addr());
    let out = run(Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&daemon.socket)
        .arg(&image));
    assert!(
        out.status.success(),
        "{}\n{}\ndaemon log:\n{}",
        stdout(&out),
        stderr(&out),
        daemon.log()
    );
    assert_eq!(
        stdout(&out),
        format!(
            "pulled ['{image}:latest']\noutput 'from docker-py\\nmore\\n'\nleft 0\nerror 5\n\
             put True\ngot hello.txt hi from python\ndiff [(0, '/tmp'), (1, '/tmp/hello.txt')]\n\
             top PID True\nrenamed pybox2\npruned True\n"
        )
    );
}
