//! Pulls against a hand-written registry (tests/support) that can misbehave
//! on purpose: the Bearer token dance, wrong bytes, cut connections,
//! redirects to other hosts, registry errors. The images are written by
//! the test kit, never by minidock.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minidock_images::{Digest, Reference, Store};
use minidock_registry::{Client, ClientOptions, Credentials, Progress, PullOptions, RegistryError};
use minidock_testkit::{require_root, Compression, Entry, ImageSpec, LayerSpec, OciImage};
use rand::{Rng, RngCore};
use support::{names_in, range_reply, FakeServer, Layout, Reply};

const REPO: &str = "a/b";

/// An image of `sizes.len()` layers, each one file of random bytes of that
/// size (uncompressed, so the blob size is predictable).
fn random_image(dir: &Path, sizes: &[usize]) -> OciImage {
    let mut rng = rand::thread_rng();
    let layers = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let mut data = vec![0u8; size];
            rng.fill_bytes(&mut data);
            LayerSpec::new(
                Compression::None,
                vec![
                    Entry::dir(format!("layer{i}"), 0o755),
                    Entry::file(format!("layer{i}/data"), data, 0o644),
                ],
            )
        })
        .collect();
    let spec = ImageSpec {
        layers,
        cmd: vec!["sh".into()],
        ..ImageSpec::default()
    };
    spec.write_oci_layout(dir, "v1")
}

/// A client with fast retries and its own (empty) credentials file.
fn client(tmp: &Path) -> Client {
    Client::new(ClientOptions {
        credentials_file: tmp.join("docker-config.json"),
        retry_delay: Duration::from_millis(10),
        ..ClientOptions::default()
    })
}

fn reference(server: &FakeServer, tag: &str) -> Reference {
    Reference::parse(&format!("{}/{REPO}:{tag}", server.addr())).unwrap()
}

struct Setup {
    _tmp: tempfile::TempDir,
    tmp: std::path::PathBuf,
    image: OciImage,
    layout: Layout,
    store: Store,
}

impl Setup {
    /// Pulls `REPO:v1` from `server` into this setup's store, with the test
    /// client and no progress reporting.
    #[allow(clippy::result_large_err)] // Client::pull's own error type, passed on
    fn pull_v1(&self, server: &FakeServer) -> Result<minidock_registry::Pulled, RegistryError> {
        client(&self.tmp).pull(
            &self.store,
            &reference(server, "v1"),
            &PullOptions::default(),
            &|_| {},
        )
    }
}

fn setup(sizes: &[usize]) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let image = random_image(&tmp.path().join("oci"), sizes);
    let layout = Layout::read(&image.dir);
    let store = Store::open(&tmp.path().join("root")).unwrap();
    Setup {
        tmp: tmp.path().to_path_buf(),
        _tmp: tmp,
        image,
        layout,
        store,
    }
}

/// The blobs and partial downloads in a store.
fn store_content(store: &Store) -> (Vec<String>, Vec<String>) {
    (
        names_in(&store.root().join("blobs/sha256")),
        names_in(&store.root().join("ingest")),
    )
}

fn hex(digest: &str) -> String {
    digest.strip_prefix("sha256:").unwrap().to_string()
}

#[test]
fn bearer_token_is_fetched_with_the_right_scope_cached_and_sent_back() {
    require_root();
    let s = setup(&[3000, 5000]);
    let token = format!("tok-{}", rand::thread_rng().gen::<u64>());
    let realm = Arc::new(Mutex::new(String::new()));
    let server = {
        let (layout, token, realm) = (s.layout.clone(), token.clone(), realm.clone());
        FakeServer::start(move |req| {
            if req.path() == "/token" {
                return Reply::new(200, format!(r#"{{"token":"{token}","expires_in":300}}"#))
                    .header("Content-Type", "application/json");
            }
            if req.header("authorization") != Some(&format!("Bearer {token}")) {
                let challenge = format!(
                    r#"Bearer realm="{}",service="x",scope="repository:{REPO}:pull""#,
                    realm.lock().unwrap()
                );
                return Reply::error(401, "UNAUTHORIZED", "authentication required")
                    .header("WWW-Authenticate", challenge);
            }
            layout.serve(REPO, req)
        })
    };
    *realm.lock().unwrap() = format!("http://{}/token", server.addr());

    let client = client(&s.tmp);
    let pulled = client
        .pull(
            &s.store,
            &reference(&server, "v1"),
            &PullOptions::default(),
            &|_| {},
        )
        .unwrap();
    assert_eq!(pulled.manifest_digest.to_string(), s.image.manifest_digest);

    let tokens = server.requests_to("/token");
    assert_eq!(tokens.len(), 1, "one token for the whole pull: {tokens:#?}");
    assert_eq!(tokens[0].query("service"), vec!["x".to_string()]);
    assert_eq!(
        tokens[0].query("scope"),
        vec![format!("repository:{REPO}:pull")]
    );
    assert_eq!(tokens[0].header("authorization"), None, "anonymous token");
    // Every manifest and blob request carried the token.
    let api: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path().starts_with(&format!("/v2/{REPO}/")))
        .collect();
    assert_eq!(
        api.len(),
        1 + 1 + 2,
        "manifest, config, two layers: {api:#?}"
    );
    for r in &api {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "{r:?}"
        );
    }

    // With credentials, the token request carries them as Basic auth.
    let creds = Credentials::new("alice", format!("pw{}", rand::thread_rng().gen::<u32>()));
    let other = self::client(&s.tmp);
    other.set_credentials(&server.addr(), creds.clone());
    let store2 = Store::open(&s.tmp.join("root2")).unwrap();
    other
        .pull(
            &store2,
            &reference(&server, "v1"),
            &PullOptions::default(),
            &|_| {},
        )
        .unwrap();
    let tokens = server.requests_to("/token");
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        tokens[1].header("authorization"),
        Some(format!("Basic {}", creds.basic_token()).as_str())
    );
}

#[test]
fn progress_events_and_concurrency() {
    require_root();
    let s = setup(&[40_000, 50_000, 60_000, 70_000, 80_000]);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let server = {
        let (layout, in_flight, max_in_flight) =
            (s.layout.clone(), in_flight.clone(), max_in_flight.clone());
        let layers: Vec<String> = s.image.layer_digests.clone();
        FakeServer::start(move |req| {
            let is_layer = layers.iter().any(|d| req.path().ends_with(d.as_str()));
            if is_layer {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max_in_flight.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                in_flight.fetch_sub(1, Ordering::SeqCst);
            }
            layout.serve(REPO, req)
        })
    };
    let events = Mutex::new(Vec::new());
    let pulled = client(&s.tmp)
        .pull(
            &s.store,
            &reference(&server, "v1"),
            &PullOptions::default(),
            &|p| events.lock().unwrap().push(p),
        )
        .unwrap();
    assert_eq!(
        max_in_flight.load(Ordering::SeqCst),
        3,
        "3 layers at a time, like Docker"
    );
    let events = events.into_inner().unwrap();
    assert_eq!(events.first(), Some(&Progress::Resolving));
    assert_eq!(
        events.last(),
        Some(&Progress::Done {
            digest: pulled.manifest_digest.clone()
        })
    );
    let extracting = events
        .iter()
        .position(|e| *e == Progress::Extracting)
        .unwrap();
    let manifest: serde_json::Value = s.image.manifest.clone();
    for layer in manifest["layers"].as_array().unwrap() {
        let digest: Digest = layer["digest"].as_str().unwrap().parse().unwrap();
        let size = layer["size"].as_u64().unwrap();
        let start = events
            .iter()
            .position(|e| {
                *e == Progress::LayerStart {
                    digest: digest.clone(),
                    size,
                }
            })
            .unwrap_or_else(|| panic!("no LayerStart for {digest}: {events:?}"));
        let done = events
            .iter()
            .position(|e| {
                *e == Progress::LayerDone {
                    digest: digest.clone(),
                }
            })
            .unwrap();
        let last = events
            .iter()
            .rposition(|e| matches!(e, Progress::LayerProgress { digest: d, .. } if *d == digest))
            .unwrap();
        assert!(
            start < last && last < done && done < extracting,
            "{events:?}"
        );
        assert_eq!(
            events[last],
            Progress::LayerProgress {
                digest: digest.clone(),
                current: size,
                total: size
            }
        );
    }
    // Pulling again downloads nothing and says so.
    let events = Mutex::new(Vec::new());
    let again = client(&s.tmp)
        .pull(
            &s.store,
            &reference(&server, "v1"),
            &PullOptions::default(),
            &|p| events.lock().unwrap().push(p),
        )
        .unwrap();
    assert!(again.downloaded.is_empty(), "{again:?}");
    let exists = events
        .into_inner()
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e, Progress::LayerExists { .. }))
        .count();
    assert_eq!(exists, 5);
}

#[test]
fn wrong_blob_bytes_are_refused_and_nothing_is_stored() {
    require_root();
    let s = setup(&[4000, 6000]);
    let bad_layer = s.image.layer_digests[1].clone();
    let mut layout = s.layout.clone();
    // Same length, other bytes: only the digest can tell.
    let mut evil = layout.blobs[&bad_layer].clone();
    let i = rand::thread_rng().gen_range(0..evil.len());
    evil[i] ^= 0x55;
    layout.blobs.insert(bad_layer.clone(), evil);
    let server = FakeServer::start(move |req| layout.serve(REPO, req));
    let err = s.pull_v1(&server).unwrap_err();
    assert!(matches!(err, RegistryError::BadBlob { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&bad_layer) && text.contains(&server.addr()) && text.contains(REPO),
        "{text}"
    );
    let (blobs, ingest) = store_content(&s.store);
    assert!(!blobs.contains(&hex(&bad_layer)), "{blobs:?}");
    assert!(
        !blobs.contains(&hex(&s.image.manifest_digest)),
        "no manifest without its layers"
    );
    assert!(ingest.is_empty(), "{ingest:?}");
    assert!(s.store.list().unwrap().is_empty());
    // No retry for a verification failure: the bytes would be the same.
    assert_eq!(server.requests_to(&bad_layer).len(), 1);
}

#[test]
fn a_blob_longer_than_announced_is_refused() {
    require_root();
    let s = setup(&[4000]);
    let layer = s.image.layer_digests[0].clone();
    let mut layout = s.layout.clone();
    layout
        .blobs
        .get_mut(&layer)
        .unwrap()
        .extend_from_slice(b"and some more");
    let server = FakeServer::start(move |req| layout.serve(REPO, req));
    let err = s.pull_v1(&server).unwrap_err();
    assert!(err.to_string().contains("sent more than the"), "{err}");
    let (blobs, ingest) = store_content(&s.store);
    assert!(!blobs.contains(&hex(&layer)));
    assert!(ingest.is_empty(), "{ingest:?}");
}

#[test]
fn a_truncated_body_is_retried_then_fails_leaving_only_a_partial_in_ingest() {
    require_root();
    let s = setup(&[200_000]);
    let layer = s.image.layer_digests[0].clone();
    let cut = rand::thread_rng().gen_range(1000..60_000);
    let server = {
        let (layout, layer) = (s.layout.clone(), layer.clone());
        FakeServer::start(move |req| {
            let reply = layout.serve(REPO, req);
            if req.path().ends_with(&layer) {
                // Every try gets only `cut` more bytes, then the line drops.
                reply.cut_after(cut)
            } else {
                reply
            }
        })
    };
    let err = s.pull_v1(&server).unwrap_err();
    assert!(matches!(err, RegistryError::Body { .. }), "{err}");
    let tries = server.requests_to(&layer);
    assert_eq!(tries.len(), 3, "three tries");
    assert_eq!(tries[0].header("range"), None);
    assert_eq!(
        tries[1].header("range"),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(
        tries[2].header("range"),
        Some(format!("bytes={}-", 2 * cut).as_str())
    );
    let (blobs, ingest) = store_content(&s.store);
    assert!(!blobs.contains(&hex(&layer)), "not visible as a blob");
    assert_eq!(ingest, vec![format!("{}.partial", hex(&layer))]);
    assert_eq!(
        std::fs::metadata(s.store.root().join("ingest").join(&ingest[0]))
            .unwrap()
            .len(),
        3 * cut as u64
    );
    assert!(s.store.list().unwrap().is_empty());
}

#[test]
fn an_interrupted_download_resumes_with_range_and_is_not_repeated() {
    require_root();
    let s = setup(&[30_000, 2_000_000]);
    let big = s.image.layer_digests[1].clone();
    let cut = rand::thread_rng().gen_range(100_000..1_500_000);
    let first = Arc::new(AtomicUsize::new(0));
    let server = {
        let (layout, big, first) = (s.layout.clone(), big.clone(), first.clone());
        FakeServer::start(move |req| {
            let reply = layout.serve(REPO, req);
            if req.path().ends_with(&big) && first.fetch_add(1, Ordering::SeqCst) == 0 {
                reply.cut_after(cut)
            } else {
                reply
            }
        })
    };
    let pulled = s.pull_v1(&server).unwrap();
    assert_eq!(pulled.manifest_digest.to_string(), s.image.manifest_digest);
    let tries = server.requests_to(&big);
    assert_eq!(tries.len(), 2);
    assert_eq!(
        tries[1].header("range"),
        Some(format!("bytes={cut}-").as_str())
    );
    let stored = std::fs::read(s.store.blob_path(&big.parse().unwrap())).unwrap();
    assert_eq!(stored, s.layout.blobs[&big]);
    assert!(store_content(&s.store).1.is_empty(), "no partial left");

    // A second pull fetches the manifest again, and no blob.
    server.clear();
    let again = s.pull_v1(&server).unwrap();
    assert!(again.downloaded.is_empty());
    assert_eq!(again.already_present.len(), 3);
    assert!(
        server.requests_to("/blobs/").is_empty(),
        "{:#?}",
        server.requests()
    );
}

#[test]
fn a_failed_pull_keeps_finished_layers_and_the_next_one_resumes() {
    require_root();
    let s = setup(&[20_000, 300_000]);
    let (small, big) = (
        s.image.layer_digests[0].clone(),
        s.image.layer_digests[1].clone(),
    );
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let server = {
        let (layout, big, broken) = (s.layout.clone(), big.clone(), broken.clone());
        FakeServer::start(move |req| {
            let reply = layout.serve(REPO, req);
            if req.path().ends_with(&big) && broken.load(Ordering::SeqCst) {
                reply.cut_after(100_000)
            } else {
                reply
            }
        })
    };
    let mut options = ClientOptions {
        credentials_file: s.tmp.join("none.json"),
        tries: 1,
        max_concurrent_downloads: 1,
        ..ClientOptions::default()
    };
    let r = reference(&server, "v1");
    assert!(Client::new(options.clone())
        .pull(&s.store, &r, &PullOptions::default(), &|_| {})
        .is_err());
    assert!(s.store.has_blob(&small.parse().unwrap()));
    broken.store(false, Ordering::SeqCst);
    server.clear();
    options.tries = 3;
    Client::new(options)
        .pull(&s.store, &r, &PullOptions::default(), &|_| {})
        .unwrap();
    assert!(
        server.requests_to(&small).is_empty(),
        "finished layer fetched again"
    );
    let big_requests = server.requests_to(&big);
    assert_eq!(big_requests.len(), 1);
    assert_eq!(big_requests[0].header("range"), Some("bytes=100000-"));
}

#[test]
fn a_registry_that_ignores_range_restarts_from_zero() {
    require_root();
    let s = setup(&[500_000]);
    let layer = s.image.layer_digests[0].clone();
    let count = Arc::new(AtomicUsize::new(0));
    let server = {
        let (layout, layer, count) = (s.layout.clone(), layer.clone(), count.clone());
        FakeServer::start(move |req| {
            if req.path().ends_with(&layer) {
                // Always the whole blob with 200, whatever Range says.
                let reply = range_reply(&layout.blobs[&layer], None);
                if count.fetch_add(1, Ordering::SeqCst) == 0 {
                    return reply.cut_after(123_456);
                }
                return reply;
            }
            layout.serve(REPO, req)
        })
    };
    s.pull_v1(&server).unwrap();
    let tries = server.requests_to(&layer);
    assert_eq!(tries[1].header("range"), Some("bytes=123456-"));
    assert_eq!(
        std::fs::read(s.store.blob_path(&layer.parse().unwrap())).unwrap(),
        s.layout.blobs[&layer]
    );
}

#[test]
fn manifest_digest_mismatches_are_refused() {
    require_root();
    let s = setup(&[1000]);
    // 1. Pull by digest, the registry sends other bytes.
    let mut layout = s.layout.clone();
    let real = s.image.manifest_digest.clone();
    let mut other: serde_json::Value = s.image.manifest.clone();
    other["annotations"] = serde_json::json!({"evil": "yes"});
    let other_bytes = serde_json::to_vec(&other).unwrap();
    layout.blobs.insert(real.clone(), other_bytes);
    let server = FakeServer::start(move |req| layout.serve(REPO, req));
    let by_digest = Reference::parse(&format!("{}/{REPO}@{real}", server.addr())).unwrap();
    let err = client(&s.tmp)
        .pull(&s.store, &by_digest, &PullOptions::default(), &|_| {})
        .unwrap_err();
    assert!(matches!(err, RegistryError::ManifestDigest { .. }), "{err}");
    assert!(err.to_string().contains(&real), "{err}");
    assert_eq!(store_content(&s.store), (vec![], vec![]));

    // 2. By tag, Docker-Content-Digest names other bytes than were sent.
    let layout = s.layout.clone();
    let server = FakeServer::start(move |req| {
        let mut reply = layout.serve(REPO, req);
        if req.path().contains("/manifests/") {
            reply.headers.retain(|(k, _)| k != "Docker-Content-Digest");
            reply = reply.header(
                "Docker-Content-Digest",
                format!("sha256:{}", "ab".repeat(32)),
            );
        }
        reply
    });
    let err = s.pull_v1(&server).unwrap_err();
    assert!(matches!(err, RegistryError::ManifestDigest { .. }), "{err}");
    assert_eq!(store_content(&s.store), (vec![], vec![]));
}

#[test]
fn redirects_to_another_host_get_no_credentials() {
    require_root();
    let s = setup(&[5000, 7000]);
    let user = "bob";
    let pass = format!("pw{}", rand::thread_rng().gen::<u32>());
    let basic = format!("Basic {}", Credentials::new(user, &pass).basic_token());
    // The storage host: another address (127.0.0.2), so another origin.
    let storage = {
        let layout = s.layout.clone();
        FakeServer::start_on("127.0.0.2", move |req| {
            let digest = req.path().rsplit('/').next().unwrap_or("").to_string();
            match layout.blobs.get(&digest) {
                Some(b) => range_reply(b, req.header("range")),
                None => Reply::status(404),
            }
        })
    };
    let storage_addr = storage.addr();
    let registry = {
        let (layout, basic) = (s.layout.clone(), basic.clone());
        FakeServer::start(move |req| {
            if req.header("authorization") != Some(basic.as_str()) {
                return Reply::error(401, "UNAUTHORIZED", "authentication required")
                    .header("WWW-Authenticate", r#"Basic realm="test""#);
            }
            if let Some(digest) = req.path().split("/blobs/").nth(1) {
                return Reply::status(307).header(
                    "Location",
                    format!("http://{storage_addr}/store/{digest}?sig=abc"),
                );
            }
            layout.serve(REPO, req)
        })
    };
    let client = client(&s.tmp);
    client.set_credentials(&registry.addr(), Credentials::new(user, &pass));
    client
        .pull(
            &s.store,
            &reference(&registry, "v1"),
            &PullOptions::default(),
            &|_| {},
        )
        .unwrap();
    let fetched = storage.requests();
    assert_eq!(fetched.len(), 3, "config and two layers from storage");
    for r in &fetched {
        assert_eq!(r.header("authorization"), None, "credentials leaked: {r:?}");
        assert_eq!(r.query("sig"), vec!["abc".to_string()]);
    }
    assert!(registry
        .requests_to("/blobs/")
        .iter()
        .all(|r| r.header("authorization") == Some(basic.as_str())));

    // A redirect loop is a clean error.
    let looping = FakeServer::start(move |req| {
        if req.path().contains("/blobs/") {
            Reply::status(302).header("Location", req.target.clone())
        } else {
            s.layout.serve(REPO, req)
        }
    });
    let store2 = Store::open(&s.tmp.join("root2")).unwrap();
    let err = self::client(&s.tmp)
        .pull(
            &store2,
            &reference(&looping, "v1"),
            &PullOptions::default(),
            &|_| {},
        )
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::TooManyRedirects { .. }),
        "{err}"
    );
    assert_eq!(store_content(&store2), (vec![], vec![]));
}

#[test]
fn registry_errors_become_clear_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("root")).unwrap();
    let server = FakeServer::start(|req| match req.path() {
        "/v2/" => Reply::new(200, "{}"),
        p if p.contains("/missing/") => Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
        p if p.contains("/busy/") => {
            Reply::error(429, "TOOMANYREQUESTS", "slow down").header("Retry-After", "30")
        }
        p if p.contains("/broken/") => Reply::new(500, "oops"),
        p if p.contains("/secret/") => Reply::error(401, "UNAUTHORIZED", "authentication required")
            .header("WWW-Authenticate", r#"Basic realm="r""#),
        p if p.contains("/forbidden/") => {
            Reply::error(403, "DENIED", "requested access to the resource is denied")
        }
        _ => Reply::status(404),
    });
    let client = client(tmp.path());
    let pull = |repo: &str| {
        let r = Reference::parse(&format!("{}/{repo}:t1", server.addr())).unwrap();
        client
            .pull(&store, &r, &PullOptions::default(), &|_| {})
            .unwrap_err()
    };
    let addr = server.addr();

    let e = pull("x/missing/y");
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("{addr}/x/missing/y: manifest t1 not found: MANIFEST_UNKNOWN: manifest unknown")
    );
    let e = pull("x/busy/y");
    assert!(matches!(e, RegistryError::RateLimited { .. }), "{e}");
    assert!(e.to_string().contains("retry after 30"), "{e}");
    let e = pull("x/broken/y");
    assert!(
        matches!(e, RegistryError::Server { status: 500, .. }),
        "{e}"
    );
    assert_eq!(server.requests_to("/broken/").len(), 3, "5xx is retried");
    let e = pull("x/secret/y");
    assert!(matches!(e, RegistryError::Unauthorized { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("run `minidock login {addr}`")),
        "{e}"
    );
    let e = pull("x/forbidden/y");
    assert!(matches!(e, RegistryError::Denied { .. }), "{e}");
    assert!(e.to_string().contains("DENIED"), "{e}");
    assert_eq!(store_content(&store), (vec![], vec![]));

    // Nobody listening: a transport error naming the registry.
    drop(server);
    let r = Reference::parse(&format!("{addr}/x/y:t1")).unwrap();
    let e = client
        .pull(&store, &r, &PullOptions::default(), &|_| {})
        .unwrap_err();
    assert!(matches!(e, RegistryError::Transport { .. }), "{e}");
    assert!(e.to_string().contains(&addr), "{e}");
}

#[test]
fn an_oversized_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("root")).unwrap();
    let server = FakeServer::start(|req| {
        if req.path() == "/v2/" {
            return Reply::new(200, "{}");
        }
        Reply::new(200, vec![b' '; 5 << 20])
            .header("Content-Type", minidock_registry::manifest::OCI_MANIFEST)
    });
    let r = Reference::parse(&format!("{}/big/one:t", server.addr())).unwrap();
    let e = client(tmp.path())
        .pull(&store, &r, &PullOptions::default(), &|_| {})
        .unwrap_err();
    assert!(matches!(e, RegistryError::TooLarge { .. }), "{e}");
}
