//! Builds for real, as root: RUN steps are containers of chapter 03, the
//! images land in chapter 02's store and run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minidock_build::{BuildOptions, Builder, Message};
use minidock_lifecycle::attach::collect;
use minidock_lifecycle::cgroup::CgroupRoot;
use minidock_lifecycle::config::{HostConfig, UserConfig};
use minidock_lifecycle::{CreateOptions, Runtime, RuntimeConfig};
use minidock_testkit::{
    busybox_image, hostile_layers, random_name, require_root, Canary, LeakCheck,
};

struct Fixture {
    dir: tempfile::TempDir,
    builder: Builder,
    tag: String,
    leaks: Option<LeakCheck>,
}

fn runtime(dir: &Path, tag: &str) -> Runtime {
    Runtime::new(RuntimeConfig {
        root: dir.join("root"),
        run_dir: dir.join("run"),
        helper_binary: PathBuf::from(env!("CARGO_BIN_EXE_minidock-build-shim")),
        cgroup_parent: tag.to_string(),
    })
    .unwrap()
}

fn fixture() -> Fixture {
    require_root();
    let tag = random_name("minidock-test-");
    let leaks = LeakCheck::start(&tag);
    let dir = tempfile::Builder::new().prefix(&tag).tempdir().unwrap();
    let runtime = runtime(dir.path(), &tag);
    let oci = busybox_image().write_oci_layout(&dir.path().join("oci"), "latest");
    let loaded = runtime.images().load(&oci.dir).unwrap();
    let image = runtime.images().resolve(&loaded[0].id.to_string()).unwrap();
    runtime
        .images()
        .tag(&"busybox:latest".parse().unwrap(), &image.manifest_digest)
        .unwrap();
    Fixture {
        builder: Builder::new(runtime).unwrap(),
        dir,
        tag,
        leaks: Some(leaks),
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let runtime = self.builder.runtime();
        if let Ok(all) = runtime.containers().list() {
            for (c, _) in all {
                runtime.remove(&c.id, true).ok();
            }
        }
        if let Ok(root) = CgroupRoot::detect() {
            root.remove_parent(&self.tag).ok();
        }
        let leaks = self.leaks.take().expect("leak check");
        if !std::thread::panicking() {
            leaks.finish();
        }
    }
}

/// A tar header of a root-owned entry.
fn header() -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h
}

/// A context tar of `files` (path, content), made with the tar crate.
fn context(files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut h = header();
        h.set_mode(0o644);
        h.set_size(content.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, content.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

struct Built {
    id: String,
    output: String,
}

impl Fixture {
    fn build(&self, tar: &[u8], options: &BuildOptions) -> Result<Built, minidock_build::Error> {
        let mut output = String::new();
        let mut id = String::new();
        self.builder.build(tar, options, &mut |m| match m {
            Message::Stream(s) => output.push_str(&s),
            Message::ImageId(i) => id = i,
            Message::Kept(_) => {}
        })?;
        Ok(Built { id, output })
    }

    /// Runs the image with its own command; returns its stdout.
    fn run(&self, image: &str) -> String {
        let runtime = self.builder.runtime();
        let id = runtime
            .create(CreateOptions {
                image: image.to_string(),
                name: None,
                config: UserConfig::default(),
                host_config: HostConfig::default(),
            })
            .unwrap();
        let mut stream = runtime.start_attached(&id).unwrap();
        let got = collect(&mut stream).unwrap();
        runtime.remove(&id, true).unwrap();
        assert_eq!(
            got.exit_code,
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        String::from_utf8(got.stdout).unwrap()
    }

    /// The entries of the top layer of an image.
    fn top_layer_entries(&self, image: &str) -> Vec<String> {
        let store = self.builder.store();
        let image = store.resolve(image).unwrap();
        let layer = image.manifest.layers().last().unwrap();
        let digest = minidock_images::Digest::try_from(layer.digest()).unwrap();
        let blob = store.open_blob(&digest).unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(blob));
        tar.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }
}

#[test]
fn multi_stage_with_args_env_workdir_and_user() {
    let f = fixture();
    let dockerfile = r#"
ARG BASE=busybox
FROM $BASE AS build
ARG GREETING=hello
ENV TARGET=world
RUN mkdir -p /out && echo "$GREETING $TARGET" > /out/msg

FROM busybox
COPY --from=build /out/msg /app/msg
ENV NAME=${TARGET:-nobody} \
    WHO="a b"
WORKDIR /app
USER 1000:1000
CMD ["sh", "-c", "cat msg; pwd; id -u; echo $NAME; echo $WHO"]
"#;
    let options = BuildOptions {
        build_args: BTreeMap::from([("GREETING".to_string(), "hi".to_string())]),
        tags: vec!["app:1".into()],
        ..BuildOptions::default()
    };
    let built = f
        .build(&context(&[("Dockerfile", dockerfile)]), &options)
        .unwrap();
    assert!(
        built.output.contains("Step 1/11 : ARG BASE=busybox"),
        "{}",
        built.output
    );
    assert!(
        built.output.contains("Successfully tagged app:1"),
        "{}",
        built.output
    );
    assert_eq!(f.run("app:1"), "hi world\n/app\n1000\nnobody\na b\n");

    // The history has a line per step, layers only where files changed.
    let image = f.builder.store().resolve("app:1").unwrap();
    let history = image.config.history().clone();
    let layered: Vec<bool> = history
        .iter()
        .map(|h| h.empty_layer() != Some(true))
        .collect();
    // busybox's own layer, then COPY; ENV, WORKDIR, USER, CMD are empty
    assert_eq!(layered, vec![true, true, false, false, false, false]);
    assert_eq!(image.layers.len(), 2);

    // --target stops at the first stage
    let options = BuildOptions {
        target: Some("build".into()),
        ..BuildOptions::default()
    };
    let built = f
        .build(&context(&[("Dockerfile", dockerfile)]), &options)
        .unwrap();
    assert!(built.output.contains("Step 5/5 : RUN"), "{}", built.output);
}

fn using_cache(output: &str) -> usize {
    output.matches(" ---> Using cache").count()
}

#[test]
fn the_cache_reuses_unchanged_steps_and_survives_a_restart() {
    let f = fixture();
    let dockerfile = "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nCOPY c.txt /c.txt\nCMD [\"cat\", \"/b.txt\", \"/c.txt\"]\n";
    let ctx = |a: &str, c: &str| context(&[("Dockerfile", dockerfile), ("a.txt", a), ("c.txt", c)]);
    let first = f
        .build(&ctx("A\n", "C\n"), &BuildOptions::default())
        .unwrap();
    assert_eq!(using_cache(&first.output), 0, "{}", first.output);
    assert_eq!(f.run(&first.id), "A\nC\n");

    // unchanged: every step after FROM from the cache, the same image
    let again = f
        .build(&ctx("A\n", "C\n"), &BuildOptions::default())
        .unwrap();
    assert_eq!(using_cache(&again.output), 4, "{}", again.output);
    assert_eq!(again.id, first.id);
    assert!(!again.output.contains("Running in"), "{}", again.output);

    // a new builder on the same root (a daemon restart) still has it
    let restarted = Builder::new(runtime(f.dir.path(), &f.tag)).unwrap();
    let mut out = String::new();
    restarted
        .build(&ctx("A\n", "C\n")[..], &BuildOptions::default(), &mut |m| {
            if let Message::Stream(s) = m {
                out.push_str(&s)
            }
        })
        .unwrap();
    assert_eq!(using_cache(&out), 4, "{out}");

    // c.txt changed: the steps before its COPY are reused, not the rest
    let changed = f
        .build(&ctx("A\n", "C2\n"), &BuildOptions::default())
        .unwrap();
    assert_eq!(using_cache(&changed.output), 2, "{}", changed.output);
    assert_eq!(f.run(&changed.id), "A\nC2\n");

    // a.txt changed: nothing after FROM is reused
    let changed = f
        .build(&ctx("A2\n", "C2\n"), &BuildOptions::default())
        .unwrap();
    assert_eq!(using_cache(&changed.output), 0, "{}", changed.output);
    assert_eq!(f.run(&changed.id), "A2\nC2\n");

    // --no-cache runs everything
    let options = BuildOptions {
        no_cache: true,
        ..BuildOptions::default()
    };
    let fresh = f.build(&ctx("A2\n", "C2\n"), &options).unwrap();
    assert_eq!(using_cache(&fresh.output), 0, "{}", fresh.output);
    assert!(fresh.output.contains("Running in"), "{}", fresh.output);
}

#[test]
fn a_deleting_run_makes_a_whiteout() {
    let f = fixture();
    let dockerfile = "FROM busybox\nRUN rm /etc/hostname && mkdir /new && echo x > /new/f\nCMD [\"sh\", \"-c\", \"test -e /etc/hostname && echo there || echo gone; cat /new/f\"]\n";
    let built = f
        .build(
            &context(&[("Dockerfile", dockerfile)]),
            &BuildOptions::default(),
        )
        .unwrap();
    let entries = f.top_layer_entries(&built.id);
    assert!(
        entries.contains(&"etc/.wh.hostname".to_string()),
        "{entries:?}"
    );
    assert!(entries.contains(&"new/f".to_string()), "{entries:?}");
    assert_eq!(f.run(&built.id), "gone\nx\n");

    // a directory deleted and made again is opaque: nothing of it shows through
    let dockerfile = "FROM busybox\nRUN mkdir /d && echo a > /d/a\nRUN rm -rf /d && mkdir /d && echo b > /d/b\nCMD [\"ls\", \"/d\"]\n";
    let built = f
        .build(
            &context(&[("Dockerfile", dockerfile)]),
            &BuildOptions::default(),
        )
        .unwrap();
    let entries = f.top_layer_entries(&built.id);
    assert!(
        entries.contains(&"d/.wh..wh..opq".to_string()),
        "{entries:?}"
    );
    assert_eq!(f.run(&built.id), "b\n");
}

#[test]
fn dockerignore_excludes_and_symlinks_stay_links() {
    let f = fixture();
    let dockerfile =
        "FROM busybox\nCOPY . /ctx/\nCMD [\"sh\", \"-c\", \"ls -A /ctx; readlink /ctx/link\"]\n";
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in [
        ("Dockerfile", dockerfile),
        (".dockerignore", "secret*\n!secret-ok\n**/*.log\n"),
        ("keep", "k"),
        ("secret1", "s"),
        ("secret-ok", "s"),
        ("sub/x.log", "l"),
        ("sub/y", "y"),
    ] {
        let mut h = header();
        h.set_mode(0o644);
        h.set_size(content.len() as u64);
        tar.append_data(&mut h, path, content.as_bytes()).unwrap();
    }
    let mut h = header();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_mode(0o777);
    h.set_size(0);
    tar.append_link(&mut h, "link", "/etc").unwrap();
    let built = f
        .build(&tar.into_inner().unwrap(), &BuildOptions::default())
        .unwrap();
    assert_eq!(
        f.run(&built.id),
        ".dockerignore\nDockerfile\nkeep\nlink\nsecret-ok\nsub\n/etc\n"
    );
    let entries = f.top_layer_entries(&built.id);
    assert!(entries.contains(&"ctx/sub/y".to_string()), "{entries:?}");
    assert!(!entries.iter().any(|e| e.contains("x.log")), "{entries:?}");
    // the host's /etc was not copied through the link
    assert!(
        !entries.iter().any(|e| e.starts_with("ctx/link/")),
        "{entries:?}"
    );
}

#[test]
fn hostile_contexts_are_refused_naming_the_entry() {
    let f = fixture();
    let canary = Canary::plant(&f.dir.path().join("canary"));
    let mut refused = 0;
    for layer in hostile_layers(canary.dir()) {
        // the attack, then a Dockerfile
        let mut tar = layer.tar.clone();
        tar.truncate(tar.len() - 1024); // drop the end-of-archive blocks
        let mut more = tar::Builder::new(Vec::new());
        let mut h = header();
        h.set_size(13);
        h.set_mode(0o644);
        more.append_data(&mut h, "Dockerfile", &b"FROM busybox\n"[..])
            .unwrap();
        tar.extend(more.into_inner().unwrap());
        match f.build(&tar, &BuildOptions::default()) {
            Ok(_) => {}
            Err(e) => {
                refused += 1;
                let text = e.to_string();
                assert!(text.contains("entry"), "{}: {text}", layer.name);
            }
        }
        canary.assert_untouched();
    }
    assert!(refused >= 5, "only {refused} hostile contexts were refused");
    // and the daemon's store is fine: a normal build still works
    f.build(
        &context(&[("Dockerfile", "FROM busybox\n")]),
        &BuildOptions::default(),
    )
    .unwrap();
}

#[test]
fn add_unpacks_local_archives_and_copy_takes_chown_chmod_globs() {
    let f = fixture();
    let mut inner = tar::Builder::new(Vec::new());
    let mut h = header();
    h.set_size(2);
    h.set_mode(0o644);
    inner
        .append_data(&mut h, "dir/in-archive", &b"ok"[..])
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &inner.into_inner().unwrap()).unwrap();
    let archive = gz.finish().unwrap();

    let dockerfile = "FROM busybox\nADD files.tar.gz /x/\nCOPY --chown=65534:65534 --chmod=700 *.sh /bin/\nCMD [\"sh\", \"-c\", \"cat /x/dir/in-archive; stat -c '%u %g %a' /bin/a.sh /bin/b.sh\"]\n";
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in [
        ("Dockerfile", dockerfile.as_bytes()),
        ("files.tar.gz", &archive[..]),
        ("a.sh", b"a"),
        ("b.sh", b"b"),
        ("c.txt", b"c"),
    ] {
        let mut h = header();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, content).unwrap();
    }
    let built = f
        .build(&tar.into_inner().unwrap(), &BuildOptions::default())
        .unwrap();
    assert_eq!(f.run(&built.id), "ok65534 65534 700\n65534 65534 700\n");
}

#[test]
fn a_failing_run_fails_the_build_with_its_code() {
    let f = fixture();
    let dockerfile = "FROM busybox\nRUN echo before; exit 3\n";
    let err = f
        .build(
            &context(&[("Dockerfile", dockerfile)]),
            &BuildOptions::default(),
        )
        .err()
        .expect("the build fails");
    assert_eq!(
        err.to_string(),
        "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3"
    );
    let err = f
        .build(
            &context(&[("Dockerfile", "FROM busybox\nFRM x\n")]),
            &BuildOptions::default(),
        )
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "Dockerfile line 2, column 1: unknown instruction: FRM"
    );
}

#[test]
fn config_instructions_are_recorded_and_onbuild_triggers_run_in_children() {
    let f = fixture();
    let parent = "FROM busybox\n\
        LABEL a=1 \"b c\"=\"d e\"\n\
        EXPOSE 80 53/udp\n\
        VOLUME /data\n\
        STOPSIGNAL SIGINT\n\
        HEALTHCHECK --interval=30s --retries=2 CMD true\n\
        SHELL [\"/bin/sh\", \"-ec\"]\n\
        ENTRYPOINT echo entry\n\
        ONBUILD RUN echo triggered > /onbuild\n";
    let options = BuildOptions {
        tags: vec!["parent:1".into()],
        labels: BTreeMap::from([("from.option".to_string(), "yes".to_string())]),
        ..BuildOptions::default()
    };
    f.build(&context(&[("Dockerfile", parent)]), &options)
        .unwrap();
    let raw = raw_config(&f, "parent:1");
    let c = &raw["config"];
    assert_eq!(c["Labels"]["a"], "1");
    assert_eq!(c["Labels"]["b c"], "d e");
    assert_eq!(c["Labels"]["from.option"], "yes");
    assert!(c["ExposedPorts"]["80/tcp"].is_object(), "{c}");
    assert!(c["ExposedPorts"]["53/udp"].is_object(), "{c}");
    assert!(c["Volumes"]["/data"].is_object(), "{c}");
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/bin/sh", "-ec", "echo entry"])
    );
    assert_eq!(c["Cmd"], serde_json::Value::Null);
    assert_eq!(
        c["OnBuild"],
        serde_json::json!(["RUN echo triggered > /onbuild"])
    );
    assert_eq!(
        raw["config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 30_000_000_000u64, "Retries": 2})
    );

    let child = "FROM parent:1\nENTRYPOINT []\nCMD [\"cat\", \"/onbuild\"]\n";
    let built = f
        .build(&context(&[("Dockerfile", child)]), &BuildOptions::default())
        .unwrap();
    assert!(
        built.output.contains("# Executing 1 build trigger"),
        "{}",
        built.output
    );
    assert_eq!(f.run(&built.id), "triggered\n");
    let raw = raw_config(&f, &built.id);
    assert!(raw["config"]["OnBuild"].is_null(), "{raw}");
}

/// An image's config as the store has it.
fn raw_config(f: &Fixture, name: &str) -> serde_json::Value {
    let image = f.builder.store().resolve(name).unwrap();
    let digest = minidock_images::Digest::try_from(image.manifest.config().digest()).unwrap();
    serde_json::from_slice(&f.builder.store().read_blob(&digest).unwrap()).unwrap()
}

/// A one-file HTTP server on 127.0.0.1: `/hello.txt` answers `body`,
/// anything else 404. Returns its address.
fn serve(body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).ok();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let answer = if first.starts_with("GET /files/hello.txt ") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
            };
            stream.write_all(answer.as_bytes()).ok();
        }
    });
    addr
}

#[test]
fn add_downloads_a_url() {
    let f = fixture();
    let addr = serve("from the web\n");
    let dockerfile = format!(
        "FROM busybox\nADD http://{addr}/files/hello.txt /dl/\nCMD [\"sh\", \"-c\", \"cat /dl/hello.txt; stat -c %a /dl/hello.txt\"]\n"
    );
    let built = f
        .build(
            &context(&[("Dockerfile", &dockerfile)]),
            &BuildOptions::default(),
        )
        .unwrap();
    assert_eq!(f.run(&built.id), "from the web\n600\n");
    let again = f
        .build(
            &context(&[("Dockerfile", &dockerfile)]),
            &BuildOptions::default(),
        )
        .unwrap();
    assert_eq!(using_cache(&again.output), 2, "{}", again.output);

    let missing = format!("FROM busybox\nADD http://{addr}/nothing /x\n");
    let err = f
        .build(
            &context(&[("Dockerfile", &missing)]),
            &BuildOptions::default(),
        )
        .err()
        .unwrap();
    assert!(err.to_string().contains("404"), "{err}");
    let copy = format!("FROM busybox\nCOPY http://{addr}/files/hello.txt /x\n");
    let err = f
        .build(&context(&[("Dockerfile", &copy)]), &BuildOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("use ADD"), "{err}");
}

#[test]
fn heredocs_run_scripts_and_make_files() {
    let f = fixture();
    let dockerfile = r#"FROM busybox
ARG GREETING=hello
ENV NAME=world
RUN <<EOF
# a comment of the script, not of the Dockerfile
echo "$GREETING from a script" > /script.txt

echo second line >> /script.txt
EOF
RUN <<EOF
#!/usr/bin/awk -f
BEGIN { print "by awk" > "/awk.txt" }
EOF
RUN cat <<-END > /fed.txt
	fed to cat
	END
COPY <<CONF <<'RAW' /etc/app/
name = "$NAME"
CONF
raw $NAME
RAW
COPY <<EOF /single
one file
EOF
CMD ["sh", "-c", "cat /script.txt /awk.txt /fed.txt /etc/app/CONF /etc/app/RAW /single; stat -c %a /single"]
"#;
    let built = f
        .build(
            &context(&[("Dockerfile", dockerfile)]),
            &BuildOptions::default(),
        )
        .unwrap();
    assert_eq!(
        f.run(&built.id),
        "hello from a script\nsecond line\nby awk\nfed to cat\nname = \"world\"\nraw $NAME\none file\n644\n",
        "{}",
        built.output
    );
    // unchanged: every step from the cache; a changed body invalidates its step
    let again = f
        .build(
            &context(&[("Dockerfile", dockerfile)]),
            &BuildOptions::default(),
        )
        .unwrap();
    assert_eq!(again.id, built.id);
    let changed = dockerfile.replace("one file", "another file");
    let rebuilt = f
        .build(
            &context(&[("Dockerfile", &changed)]),
            &BuildOptions::default(),
        )
        .unwrap();
    assert_eq!(using_cache(&rebuilt.output), 6, "{}", rebuilt.output);
    assert!(f.run(&rebuilt.id).contains("another file\n"));

    // a heredoc without its end line, and heredocs mixed with files
    for (dockerfile, expected) in [
        ("FROM busybox\nRUN <<EOF\necho\n", "line 2, column 5"),
        (
            "FROM busybox\nCOPY <<EOF Dockerfile /d/\nx\nEOF\n",
            "not both",
        ),
    ] {
        let err = f
            .build(
                &context(&[("Dockerfile", dockerfile)]),
                &BuildOptions::default(),
            )
            .err()
            .expect("the build failed");
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn run_mounts_cache_bind_and_tmpfs_stay_out_of_the_layer() {
    let f = fixture();
    let dockerfile = "FROM busybox
RUN --mount=type=cache,target=/cache sh -c 'echo run >> /cache/log; wc -l < /cache/log > /count'
RUN --mount=type=bind,source=src,target=/src sh -c 'cat /src/a > /copied; touch /src/x 2>/dev/null || echo read-only > /bind-rw'
RUN --mount=type=tmpfs,target=/t,size=64k sh -c 'dd if=/dev/zero of=/t/f bs=1k count=100 2>/dev/null || echo full > /tmpfs-rc'
RUN --mount=type=tmpfs,target=/etc/deep/er --mount=type=cache,target=/made/here sh -c 'echo x > /kept'
CMD [\"sh\", \"-c\", \"cat /count /copied /bind-rw /tmpfs-rc /kept; ls -d /etc /cache /src /t /etc/deep /made 2>&1; true\"]
";
    let tar = context(&[("Dockerfile", dockerfile), ("src/a", "from the context\n")]);
    let built = f.build(&tar, &BuildOptions::default()).unwrap();
    // The mount points the image lacked are not in the layers (as with
    // BuildKit); /etc, which the image had, stays.
    let shown = f.run(&built.id);
    assert!(
        shown.starts_with("1\nfrom the context\nread-only\nfull\nx\n"),
        "{shown}\n{}",
        built.output
    );
    assert!(shown.lines().any(|l| l == "/etc"), "{shown}");
    for gone in ["/cache", "/src", "/t", "/etc/deep", "/made"] {
        assert!(
            shown.contains(&format!("{gone}: No such file or directory")),
            "{gone}: {shown}"
        );
    }
    let entries = f.top_layer_entries(&built.id);
    assert!(entries.iter().any(|e| e == "kept"), "{entries:?}");
    assert!(
        !entries
            .iter()
            .any(|e| e.starts_with("etc/deep") || e.starts_with("made")),
        "{entries:?}"
    );
    // the cache directory outlives the build: a build without the cache sees it
    let again = f
        .build(
            &tar,
            &BuildOptions {
                no_cache: true,
                ..BuildOptions::default()
            },
        )
        .unwrap();
    assert!(f.run(&again.id).starts_with("2\n"), "{}", again.output);
    // a changed bound file runs its step again
    let changed = context(&[("Dockerfile", dockerfile), ("src/a", "changed\n")]);
    let rebuilt = f.build(&changed, &BuildOptions::default()).unwrap();
    assert!(
        f.run(&rebuilt.id).contains("changed\n"),
        "{}",
        rebuilt.output
    );
    assert_eq!(using_cache(&rebuilt.output), 1, "{}", rebuilt.output);

    let secret = "FROM busybox\nRUN --mount=type=secret,id=npm cat /run/secrets/npm\n";
    let err = f
        .build(
            &context(&[("Dockerfile", secret)]),
            &BuildOptions::default(),
        )
        .err()
        .expect("a secret mount is refused");
    assert!(err.to_string().contains("type=secret"), "{err}");
}
