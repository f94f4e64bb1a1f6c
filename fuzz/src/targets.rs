//! The targets: one parser each, and what must hold for any input.
//!
//! Every target must not panic. Where a parser has an inverse, the round
//! trip must hold; where two decoders read the same format, they must
//! agree; a layer must not write outside its directory. Slowness is
//! caught by the runner's watchdog.

use crate::Target;
use minidock_daemon::frames::{read_frame, FrameDecoder};
use minidock_daemon::query::Query;
use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

/// Image references (`busybox`, `host:5000/a/b:tag@sha256:…`).
pub const REFERENCE: Target = Target {
    name: "reference",
    what: "minidock_images::Reference::parse",
    run: reference,
    dictionary: &[
        b"docker.io/",
        b"library/",
        b"localhost:5000/",
        b"[::1]:5000/",
        b":latest",
        b"@sha256:",
        b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        b"__",
        b"--",
        b".",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn reference(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(reference) = minidock_images::Reference::parse(text) else {
        return false;
    };
    // Normalising is idempotent, in the full and the familiar form. The
    // familiar form of a Hub name whose first part looks like a host
    // (`docker.io/a.b/c` → `a.b/c`) names another registry, in Docker too
    // (the Hub allows no such names): that one is not expected back.
    let familiar = reference.familiar();
    let first = familiar.split('/').next().unwrap_or("");
    let looks_like_a_host =
        familiar.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    let mut forms = vec![reference.to_string()];
    if !looks_like_a_host {
        forms.push(familiar);
    }
    for form in forms {
        let again = minidock_images::Reference::parse(&form)
            .unwrap_or_else(|e| panic!("{text:?} parsed, but its form {form:?} does not: {e}"));
        assert_eq!(again, reference, "{text:?} → {form:?} → {again}");
    }
    true
}

/// Layer tars (uncompressed, gzip or zstd): unpacked into a store.
pub const LAYER_TAR: Target = Target {
    name: "layer_tar",
    what: "minidock_images::Store::unpack_layer, which unpacks with device nodes and owners",
    run: layer_tar,
    dictionary: &[
        b"../",
        b"/",
        b"./",
        b".wh.",
        b".wh..wh..opq",
        b"ustar\0",
        b"ustar  \0",
        b"0000644\0",
        b"0000755\0",
        b"00000000000\0",
        b"00000001000\0",
        b"LIBARCHIVE.xattr.",
        b"SCHILY.xattr.trusted.overlay.opaque=y",
        b"path=",
        b"linkpath=",
        b"\x1f\x8b\x08",
        b"\x28\xb5\x2f\xfd",
    ],
    needs_root: true,
    slow_at_least: Duration::from_secs(60),
};

thread_local! {
    /// The sandbox of the layer target: `store/` (made afresh for each
    /// input) and a canary file; nothing else may ever appear in it.
    static SANDBOX: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

const CANARY: &[u8] = b"a layer must never write here\n";

fn layer_tar(data: &[u8]) -> bool {
    SANDBOX.with(|cell| {
        let mut cell = cell.borrow_mut();
        let sandbox = cell.get_or_insert_with(|| {
            let dir = tempfile::Builder::new()
                .prefix("minidock-fuzz-layer-")
                .tempdir()
                .expect("make the layer sandbox");
            std::fs::write(dir.path().join("canary"), CANARY).expect("write the canary");
            dir
        });
        unpack_in(sandbox.path(), data)
    })
}

fn unpack_in(sandbox: &Path, data: &[u8]) -> bool {
    let root = sandbox.join("store");
    let mut store = minidock_images::Store::open(&root).expect("open the fuzz store");
    store.set_max_layer_size(16 << 20);
    let blob = store.put_blob(data).expect("store the blob");
    let accepted = store
        .unpack_layer(&blob, minidock_images::layer_media_types::OCI_LAYER)
        .is_ok();
    let mut names: Vec<_> = std::fs::read_dir(sandbox)
        .expect("list the sandbox")
        .map(|e| e.expect("a sandbox entry").file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["canary", "store"],
        "the layer wrote outside its store"
    );
    assert_eq!(
        std::fs::read(sandbox.join("canary")).expect("read the canary"),
        CANARY,
        "the layer changed a file outside its store"
    );
    let mut top: Vec<_> = std::fs::read_dir(&root)
        .expect("list the store")
        .map(|e| e.expect("a store entry").file_name())
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["blobs", "images", "ingest", "layers"],
        "the layer wrote into the store's own directories"
    );
    std::fs::remove_dir_all(&root).expect("remove the fuzz store");
    accepted
}

/// Manifests and indexes (OCI and Docker), as a registry sends them.
pub const MANIFEST: Target = Target {
    name: "manifest",
    what: "minidock_registry::manifest::parse_manifest and the platform pick",
    run: manifest,
    dictionary: &[
        b"\"schemaVersion\":2",
        b"\"mediaType\":",
        b"\"application/vnd.oci.image.index.v1+json\"",
        b"\"application/vnd.oci.image.manifest.v1+json\"",
        b"\"application/vnd.docker.distribution.manifest.list.v2+json\"",
        b"\"application/vnd.docker.distribution.manifest.v2+json\"",
        b"\"manifests\":[",
        b"\"layers\":[",
        b"\"config\":",
        b"\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
        b"\"size\":",
        b"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}",
        b"\"variant\":\"v8\"",
        b"\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}",
        b"null",
        b"-1",
        b"18446744073709551616",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/json"),
];

fn manifest(data: &[u8]) -> bool {
    use minidock_registry::manifest::{parse_manifest, pick_platform, platforms_of, ManifestKind};
    let Some((&choice, bytes)) = data.split_first() else {
        return false;
    };
    let content_type = CONTENT_TYPES[choice as usize % CONTENT_TYPES.len()];
    match parse_manifest(content_type, bytes) {
        Ok(ManifestKind::Index(index)) => {
            let host = minidock_registry::manifest::Platform::host();
            pick_platform(&index, &host);
            platforms_of(&index);
            true
        }
        Ok(ManifestKind::Manifest(_)) => true,
        Err(_) => false,
    }
}

/// Dockerfiles, and the variable substitution of their words.
pub const DOCKERFILE: Target = Target {
    name: "dockerfile",
    what: "minidock_build::dockerfile::parse and minidock_build::substitute",
    run: dockerfile,
    dictionary: &[
        b"# syntax=docker/dockerfile:1\n",
        b"# escape=`\n",
        b"FROM ",
        b" AS ",
        b"RUN ",
        b"CMD ",
        b"ENTRYPOINT ",
        b"COPY ",
        b"ADD ",
        b"--from=",
        b"--chown=",
        b"ENV ",
        b"ARG ",
        b"LABEL ",
        b"WORKDIR ",
        b"USER ",
        b"EXPOSE ",
        b"VOLUME ",
        b"HEALTHCHECK ",
        b"ONBUILD ",
        b"SHELL ",
        b"STOPSIGNAL ",
        b"[\"",
        b"\", \"",
        b"\"]",
        b"\\\n",
        b"`\n",
        b"${",
        b":-",
        b":+",
        b"}",
        b"$",
        b"<<EOF\n",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn dockerfile(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let lookup = |name: &str| match name {
        "HOME" => Some("/root".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    for line in text.lines() {
        minidock_build::substitute::expand(line, '\\', &lookup).ok();
        minidock_build::substitute::words(line, '`', &lookup).ok();
    }
    match minidock_build::dockerfile::parse(&text) {
        Ok(parsed) => {
            for instruction in &parsed.instructions {
                instruction.text();
            }
            true
        }
        Err(_) => false,
    }
}

/// `.dockerignore` patterns and the paths they are matched against: the
/// patterns, a NUL, then one path a line.
pub const DOCKERIGNORE: Target = Target {
    name: "dockerignore",
    what: "minidock_build::dockerignore::{Ignore, glob}",
    run: dockerignore,
    dictionary: &[
        b"*", b"**", b"**/", b"?", b"[a-z]", b"[!a]", b"[^a]", b"\\", b"!", b"/", b"./", b"../",
        b"#", b"\n", b"\0",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn dockerignore(data: &[u8]) -> bool {
    use minidock_build::dockerignore::{glob, Ignore};
    let text = String::from_utf8_lossy(data);
    let (patterns, paths) = text.split_once('\0').unwrap_or((&text, "a/b/c"));
    let ignore = Ignore::parse(patterns);
    ignore.has_exceptions();
    let mut any = false;
    for path in paths.lines() {
        any |= ignore.excluded(path);
        for pattern in patterns.lines() {
            for part in path.split('/') {
                glob(pattern, part);
            }
        }
    }
    any
}

/// What routing sees of a request: a method, a path and a query string
/// (one a line).
pub const API_QUERY: Target = Target {
    name: "api_query",
    what: "minidock_daemon::{router::route, version, query::Query, query::Filters}",
    run: api_query,
    dictionary: &[
        b"GET\n",
        b"POST\n",
        b"DELETE\n",
        b"HEAD\n",
        b"/v1.44",
        b"/v1.50",
        b"/v0.1",
        b"/containers/",
        b"/images/",
        b"/json",
        b"/exec/",
        b"/networks/",
        b"/volumes/",
        b"filters=",
        b"%7B%22label%22%3A%5B%22a%3Db%22%5D%7D",
        b"{\"label\":{\"a=b\":true}}",
        b"{\"until\":[\"10m\"]}",
        b"%",
        b"%zz",
        b"&",
        b"=",
        b"+",
        b"all=1",
        b"t=-1",
        b"tail=all",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn api_query(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let method = match lines.next().unwrap_or("") {
        "POST" => hyper::Method::POST,
        "DELETE" => hyper::Method::DELETE,
        "HEAD" => hyper::Method::HEAD,
        "PUT" => hyper::Method::PUT,
        _ => hyper::Method::GET,
    };
    let path = lines.next().unwrap_or("/");
    let raw_query = lines.next();
    let (version, rest) = minidock_daemon::version::split_version(path);
    if let Some(version) = version {
        minidock_daemon::version::check_version(version).ok();
    }
    let routed = minidock_daemon::router::route(&method, rest).is_ok();
    let Ok(query) = Query::parse(raw_query) else {
        return routed;
    };
    query.bool("all", false);
    query.int("t").ok();
    query.all("changes");
    if let Ok(filters) = query.filters() {
        // What the client sends back is what the daemon read.
        let json = filters.to_json();
        let again = minidock_daemon::query::Filters::parse(&json)
            .unwrap_or_else(|e| panic!("filters {json} (from {raw_query:?}) do not parse: {e}"));
        assert_eq!(again, filters, "{raw_query:?} → {json}");
    }
    true
}

/// The JSON body of `POST /containers/create`, converted to the engine's
/// settings.
pub const API_JSON: Target = Target {
    name: "api_json",
    what: "the create body (serde) and minidock_daemon::compat::convert::create_options",
    run: api_json,
    dictionary: &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"null",
        b"\"Image\":\"busybox\"",
        b"\"Cmd\":[\"sh\"]",
        b"\"Env\":[\"A=b\"]",
        b"\"HostConfig\":{",
        b"\"Binds\":[\"/tmp:/x:ro\"]",
        b"\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"8080\"}]}",
        b"\"ExposedPorts\":{\"80/tcp\":{}}",
        b"\"Memory\":",
        b"\"NanoCpus\":",
        b"\"CpuShares\":",
        b"\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}",
        b"\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/d\"}]",
        b"\"Tmpfs\":{\"/t\":\"size=1m\"}",
        b"\"NetworkMode\":\"bridge\"",
        b"\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}",
        b"\"StopTimeout\":",
        b"-9223372036854775808",
        b"1e400",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn api_json(data: &[u8]) -> bool {
    use minidock_daemon::compat::convert::create_options;
    use minidock_daemon::types::ContainerCreateBody;
    let Ok(body) = serde_json::from_slice::<ContainerCreateBody>(data) else {
        return false;
    };
    let networked = create_options(&body, true, true).is_ok();
    let plain = create_options(&body, false, false).is_ok();
    networked || plain
}

/// Multiplexed stdout/stderr frames: the incremental decoder and the
/// blocking reader must read the same frames.
pub const FRAMES: Target = Target {
    name: "frames",
    what: "minidock_daemon::frames::{FrameDecoder, read_frame}",
    run: frames,
    dictionary: &[
        b"\x01\0\0\0\0\0\0\x03",
        b"\x02\0\0\0\0\0\0\x01",
        b"\x00\0\0\0\0\0\0\0",
        b"\x03\0\0\0\0\0\0\x05",
        b"\x01\0\0\0\x7f\xff\xff\xff",
        b"\x01\0\0\0\xff\xff\xff\xff",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn frames(data: &[u8]) -> bool {
    // The first byte picks how the stream is cut into reads.
    let Some((&cut, stream)) = data.split_first() else {
        return false;
    };
    let step = 1 + cut as usize % 13;
    let mut decoder = FrameDecoder::new();
    let mut pieces = Vec::new();
    let mut decoder_failed = false;
    'feed: for chunk in stream.chunks(step) {
        decoder.push(chunk);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => pieces.push(frame),
                Ok(None) => break,
                Err(_) => {
                    decoder_failed = true;
                    break 'feed;
                }
            }
        }
    }
    let mut reader = std::io::Cursor::new(stream);
    let mut read = Vec::new();
    let reader_failed = loop {
        match read_frame(&mut reader) {
            Ok(Some(frame)) => read.push(frame),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    // Both read the same whole frames; the reader fails exactly when the
    // decoder failed or was left holding part of a frame.
    assert_eq!(read, pieces, "the two decoders disagree on {stream:?}");
    let decoder_incomplete = decoder_failed || decoder.pending() > 0;
    assert_eq!(
        reader_failed, decoder_incomplete,
        "the two decoders disagree on where {stream:?} ends"
    );
    !reader_failed
}

/// `inspect -f` / `--format` templates, run against an inspect-like value.
pub const TEMPLATE: Target = Target {
    name: "template",
    what: "minidock::template::Template (Go's text/template subset)",
    run: template,
    dictionary: &[
        b"{{",
        b"}}",
        b"{{- ",
        b" -}}",
        b".State.Status",
        b".Config.Env",
        b".NetworkSettings.Networks",
        b"json ",
        b"upper ",
        b"lower ",
        b"len ",
        b"index ",
        b"join ",
        b"println ",
        b"|",
        b"\"",
        b"`",
        b"$",
        b"(",
        b")",
    ],
    needs_root: false,
    slow_at_least: Duration::ZERO,
};

fn template(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let Ok(parsed) = minidock::template::Template::parse(&text) else {
        return false;
    };
    let value = serde_json::json!({
        "Id": "0123456789ab",
        "Name": "/web",
        "State": {"Status": "running", "Pid": 42, "Running": true},
        "Config": {"Env": ["A=b", "C=d"], "Labels": {"a": "b"}, "Cmd": null},
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
        "Sizes": [1, 2.5, -3]
    });
    parsed.execute(&value).is_ok()
}
