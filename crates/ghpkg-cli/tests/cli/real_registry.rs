//! The binary against a real registry: images built with `umoci`, pushed with `skopeo` (and, for
//! manifests without a tag, by plain HTTP) into CNCF distribution (`docker-registry`), fronted by
//! the emulator's upstream mode. `prune --untagged` plans, applies, and a second run finds
//! nothing; every remaining tag then pulls whole with `skopeo`, and `verify` passes.
//!
//! Skipped (with `skipped: …` on stderr) when a tool is missing, unless
//! `GHPKG_REQUIRE_REAL_REGISTRY=1`, where a missing tool fails the test (CI installs them).

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ghpkg_mock::fixture::demo;
use ghpkg_mock::fixture::manifest::{OCI_INDEX, OCI_MANIFEST, sha256_digest};
use ghpkg_mock::{MockOptions, Upstream};
use serde_json::{Value, json};

use crate::support::{Emulator, json_of, printed};

const TOKEN: &str = "ghp_octocat_all";
const REPOSITORY: &str = "platform/app";
const TOOLS: [&str; 3] = ["docker-registry", "skopeo", "umoci"];
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether the tools are here; `false` (after saying why) when the test is to be skipped.
fn tools_present() -> bool {
    let missing: Vec<&str> = TOOLS
        .into_iter()
        .filter(|tool| {
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{} not installed (apt-get install docker-registry skopeo umoci)",
        missing.join(", ")
    );
    assert!(
        std::env::var("GHPKG_REQUIRE_REAL_REGISTRY").as_deref() != Ok("1"),
        "GHPKG_REQUIRE_REAL_REGISTRY=1, but {why}"
    );
    eprintln!("skipped: {why}");
    false
}

/// `docker-registry serve` on a free loopback port with its storage in a temporary directory
/// and deletes enabled; killed when dropped.
struct Registry {
    child: Child,
    addr: std::net::SocketAddr,
    storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                storage.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let mut registry = Registry {
            child,
            addr,
            storage,
            _dir: dir,
        };
        registry.wait_until_ready();
        registry
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = format!("http://{}/v2/", self.addr);
        loop {
            if http().get(&url).send().is_ok_and(|r| r.status() == 200) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("docker-registry exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry is not ready after {READY_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default()
    }

    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/v2/{REPOSITORY}/{path}", self.addr)
    }

    /// Uploads `bytes` as a blob (`POST` then `PUT` with the digest).
    fn push_blob(&self, bytes: &[u8]) {
        let started = http().post(self.url("blobs/uploads/")).send().unwrap();
        assert_eq!(started.status(), 202, "blob upload starts");
        let location = started.headers()["location"].to_str().unwrap().to_owned();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("http://{}{location}", self.addr)
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let finished = http()
            .put(format!(
                "{location}{separator}digest={}",
                sha256_digest(bytes)
            ))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap();
        assert_eq!(finished.status(), 201, "blob upload finishes");
    }

    /// `PUT`s a manifest under `reference` (a tag, or its digest for an untagged one).
    fn put_manifest(&self, reference: &str, bytes: &[u8]) {
        let answer = http()
            .put(self.url(&format!("manifests/{reference}")))
            .header("content-type", OCI_MANIFEST)
            .body(bytes.to_vec())
            .send()
            .unwrap();
        let status = answer.status();
        assert_eq!(status, 201, "{}", answer.text().unwrap_or_default());
    }

    /// The digest `tag` points at.
    fn digest_of(&self, tag: &str) -> String {
        let answer = http()
            .head(self.url(&format!("manifests/{tag}")))
            .header("accept", format!("{OCI_INDEX}, {OCI_MANIFEST}"))
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200, "{tag}");
        answer.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Whether the registry still serves the manifest `digest`.
    fn has(&self, digest: &str) -> bool {
        let answer = http()
            .head(self.url(&format!("manifests/{digest}")))
            .header("accept", format!("{OCI_INDEX}, {OCI_MANIFEST}"))
            .send()
            .unwrap();
        answer.status() == 200
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Runs `program ARGS…`, failing the test with its output if it fails.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An OCI layout built with umoci, plus the blobs and indexes written beside its images.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn new(dir: PathBuf) -> Layout {
        run("umoci", &["init", "--layout", dir.to_str().unwrap()]);
        Layout { dir }
    }

    fn image_ref(&self, name: &str) -> String {
        format!("{}:{name}", self.dir.display())
    }

    /// A one-layer image for `architecture` whose file says `content`; its descriptor.
    fn image(&self, name: &str, architecture: &str, content: &str) -> Value {
        let image = self.image_ref(name);
        run("umoci", &["new", "--image", &image]);
        run(
            "umoci",
            &[
                "config",
                "--image",
                &image,
                "--os",
                "linux",
                "--architecture",
                architecture,
            ],
        );
        let file = self.dir.with_extension(format!("{name}.txt"));
        std::fs::write(&file, content).unwrap();
        run(
            "umoci",
            &[
                "insert",
                "--image",
                &image,
                file.to_str().unwrap(),
                "/hello.txt",
            ],
        );
        let mut descriptor = self.reference(name);
        descriptor.as_object_mut().unwrap().remove("annotations");
        descriptor
    }

    /// The descriptor `index.json` holds for `name`.
    fn reference(&self, name: &str) -> Value {
        self.index_json()["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is in the layout"))
    }

    fn index_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir.join("index.json")).unwrap()).unwrap()
    }

    /// Writes `bytes` as a blob of the layout; its descriptor with `media_type`.
    fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = sha256_digest(bytes);
        let path = self
            .dir
            .join("blobs/sha256")
            .join(digest.strip_prefix("sha256:").unwrap());
        std::fs::write(path, bytes).unwrap();
        json!({ "mediaType": media_type, "digest": digest, "size": bytes.len() })
    }

    fn read_blob(&self, digest: &str) -> Vec<u8> {
        std::fs::read(
            self.dir
                .join("blobs/sha256")
                .join(digest.strip_prefix("sha256:").unwrap()),
        )
        .unwrap()
    }

    /// A buildx-style attestation manifest for the image `subject` (`salt` makes it unique).
    fn attestation(&self, subject: &Value, salt: &str) -> Value {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{ "digest": { "sha256": subject["digest"] } }],
            "predicate": { "salt": salt },
        });
        let layer = self.blob(
            "application/vnd.in-toto+json",
            &serde_json::to_vec(&statement).unwrap(),
        );
        let config = json!({
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": { "type": "layers", "diff_ids": [layer["digest"]] },
        });
        let config = self.blob(OCI_CONFIG, &serde_json::to_vec(&config).unwrap());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": [layer],
        });
        let mut descriptor = self.blob(OCI_MANIFEST, &serde_json::to_vec(&manifest).unwrap());
        descriptor["platform"] = json!({ "architecture": "unknown", "os": "unknown" });
        descriptor["annotations"] = json!({
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": subject["digest"],
        });
        descriptor
    }

    /// An image index of `entries`, referenced in `index.json` as `name`; its digest.
    fn index(&self, name: &str, entries: Vec<Value>) -> String {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": entries,
        });
        let mut descriptor = self.blob(OCI_INDEX, &serde_json::to_vec(&index).unwrap());
        let digest = descriptor["digest"].as_str().unwrap().to_owned();
        descriptor["annotations"] = json!({ "org.opencontainers.image.ref.name": name });
        let mut layout = self.index_json();
        layout["manifests"].as_array_mut().unwrap().push(descriptor);
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&layout).unwrap(),
        )
        .unwrap();
        digest
    }
}

/// Adds an architecture to an image descriptor, as an index entry.
fn for_platform(mut descriptor: Value, architecture: &str) -> Value {
    descriptor["platform"] = json!({ "architecture": architecture, "os": "linux" });
    descriptor
}

/// What the world holds, by digest.
struct World {
    old_image: String,
    i0: String,
    i0_arm64: String,
    i0_attestations: [String; 2],
    shared_amd64: String,
    i1: String,
    i1_arm64: String,
    cosign_signature: String,
    sbom: String,
    sbom_signature: String,
}

fn build_world(registry: &Registry, layout: &Layout) -> World {
    let host = registry.host();
    let copy = |name: &str, tag: &str| {
        run(
            "skopeo",
            &[
                "copy",
                "--all",
                "--quiet",
                "--dest-tls-verify=false",
                &format!("oci:{}", layout.image_ref(name)),
                &format!("docker://{host}/{REPOSITORY}:{tag}"),
            ],
        );
    };

    // (a) An old untagged single-arch image, pushed by digest with its blobs.
    let old = layout.image("old", "amd64", "old release");
    let old_manifest = layout.read_blob(old["digest"].as_str().unwrap());
    let parsed: Value = serde_json::from_slice(&old_manifest).unwrap();
    for blob in std::iter::once(&parsed["config"]).chain(parsed["layers"].as_array().unwrap()) {
        registry.push_blob(&layout.read_blob(blob["digest"].as_str().unwrap()));
    }
    let old_image = old["digest"].as_str().unwrap().to_owned();
    registry.put_manifest(&old_image, &old_manifest);

    // (b) I0: amd64 + arm64 and their attestations, tagged `main` (moved to I1 below).
    let amd64 = layout.image("amd64", "amd64", "amd64 build");
    let arm64_0 = layout.image("arm64-0", "arm64", "arm64 build 0");
    let i0_attestations = [
        layout.attestation(&amd64, "i0"),
        layout.attestation(&arm64_0, "i0"),
    ];
    let i0 = layout.index(
        "i0",
        vec![
            for_platform(amd64.clone(), "amd64"),
            for_platform(arm64_0.clone(), "arm64"),
            i0_attestations[0].clone(),
            i0_attestations[1].clone(),
        ],
    );
    copy("i0", "main");
    assert_eq!(
        registry.digest_of("main"),
        i0,
        "skopeo keeps the index's bytes"
    );

    // (c) I1: the same amd64 image, its own arm64 and attestations; `v1.0.0`, `latest`, `main`.
    let arm64_1 = layout.image("arm64-1", "arm64", "arm64 build 1");
    let i1 = layout.index(
        "i1",
        vec![
            for_platform(amd64.clone(), "amd64"),
            for_platform(arm64_1.clone(), "arm64"),
            layout.attestation(&amd64, "i1"),
            layout.attestation(&arm64_1, "i1"),
        ],
    );
    for tag in ["v1.0.0", "latest", "main"] {
        copy("i1", tag);
    }
    assert_eq!(registry.digest_of("main"), i1, "main moved to I1");

    // (d) A cosign-style signature of I1 under `sha256-<hex>.sig`.
    let (cosign_tag, cosign_signature) = {
        let config = b"{\"architecture\":\"\",\"os\":\"\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        let payload = format!(
            "{{\"critical\":{{\"image\":{{\"docker-manifest-digest\":\"{i1}\"}},\"type\":\"cosign container image signature\"}}}}"
        );
        registry.push_blob(config);
        registry.push_blob(payload.as_bytes());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": config.len() },
            "layers": [{
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": sha256_digest(payload.as_bytes()),
                "size": payload.len(),
                "annotations": { "dev.cosignproject.cosign/signature": "MEUCIQ==" },
            }],
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let tag = format!("{}.sig", i1.replacen(':', "-", 1));
        registry.put_manifest(&tag, &bytes);
        (tag, sha256_digest(&bytes))
    };
    assert_eq!(registry.digest_of(&cosign_tag), cosign_signature);

    // (e) An SBOM whose subject is I1's arm64 image, and a signature whose subject is the SBOM;
    // both untagged.
    let empty = b"{}";
    registry.push_blob(empty);
    let referrer = |artifact_type: &str, content: &[u8], subject: &Value| {
        registry.push_blob(content);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": { "mediaType": OCI_EMPTY, "digest": sha256_digest(empty), "size": 2 },
            "layers": [{
                "mediaType": artifact_type,
                "digest": sha256_digest(content),
                "size": content.len(),
            }],
            "subject": subject,
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let digest = sha256_digest(&bytes);
        registry.put_manifest(&digest, &bytes);
        (digest, bytes.len())
    };
    let (sbom, sbom_size) = referrer(
        "application/spdx+json",
        b"{\"spdxVersion\":\"SPDX-2.3\"}",
        &json!({ "mediaType": OCI_MANIFEST, "digest": arm64_1["digest"], "size": arm64_1["size"] }),
    );
    let (sbom_signature, _) = referrer(
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}",
        &json!({ "mediaType": OCI_MANIFEST, "digest": sbom, "size": sbom_size }),
    );

    let text = |v: &Value| v["digest"].as_str().unwrap().to_owned();
    World {
        old_image,
        i0,
        i0_arm64: text(&arm64_0),
        i0_attestations: [text(&i0_attestations[0]), text(&i0_attestations[1])],
        shared_amd64: text(&amd64),
        i1,
        i1_arm64: text(&arm64_1),
        cosign_signature,
        sbom,
        sbom_signature,
    }
}

impl World {
    /// What `digest` is in the world, for messages.
    fn name_of(&self, digest: &str) -> String {
        let names = [
            (&self.old_image, "(a) old image"),
            (&self.i0, "I0"),
            (&self.i0_arm64, "I0's arm64"),
            (&self.i0_attestations[0], "I0's amd64 attestation"),
            (&self.i0_attestations[1], "I0's arm64 attestation"),
            (&self.shared_amd64, "shared amd64"),
            (&self.i1, "I1"),
            (&self.i1_arm64, "I1's arm64"),
            (&self.cosign_signature, "cosign signature"),
            (&self.sbom, "SBOM"),
            (&self.sbom_signature, "SBOM signature"),
        ];
        names
            .iter()
            .find(|(d, _)| d.as_str() == digest)
            .map_or_else(|| digest.to_owned(), |(_, name)| (*name).to_owned())
    }

    /// The names of `digests`, for messages.
    fn names_of<'a>(&self, digests: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        digests.into_iter().map(|d| self.name_of(d)).collect()
    }
}

/// `prune container platform/app --untagged --json` and `extra` arguments; the planned digests.
fn prune(emulator: &Emulator, dir: &Path, extra: &[&str]) -> BTreeSet<String> {
    let mut args = vec![
        "--org",
        demo::ACME,
        "prune",
        "container",
        REPOSITORY,
        "--untagged",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = emulator
        .ghpkg(TOKEN, &args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "prune {extra:?}: {}",
        printed(&output)
    );
    let result = json_of(&output, "prune.schema.json");
    let state = emulator.server().state();
    result["plan"]["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|deletion| {
            let id = deletion["id"].as_i64().unwrap();
            state.version(id).unwrap().1.name.clone()
        })
        .collect()
}

#[test]
fn prune_untagged_against_a_real_registry_leaves_every_tag_pullable() {
    if !tools_present() {
        return;
    }
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let layout = Layout::new(work.path().join("layout"));
    let world = build_world(&registry, &layout);

    let emulator = Emulator::start(MockOptions {
        fixture: demo::accounts(),
        upstream: Some(Upstream::at(registry.addr, &registry.storage)),
        ..MockOptions::default()
    });
    let scan = emulator.server().upstream_scan().unwrap().clone();
    assert_eq!(scan.repositories, [REPOSITORY], "{scan:?}");
    assert!(scan.skipped.is_empty(), "{scan:?}");
    // a; I0 with its arm64 and 2 attestations; the shared amd64; I1 with its arm64 and 2
    // attestations; the cosign signature, the SBOM and its signature.
    assert_eq!(scan.manifests, 1 + 4 + 1 + 4 + 3, "{scan:?}");

    let expected: BTreeSet<String> = [
        world.old_image.clone(),
        world.i0.clone(),
        world.i0_arm64.clone(),
        world.i0_attestations[0].clone(),
        world.i0_attestations[1].clone(),
    ]
    .into();
    let planned = prune(&emulator, work.path(), &[]);
    assert!(
        emulator.server().changes().is_empty(),
        "a dry run deletes nothing"
    );

    let applied = prune(&emulator, work.path(), &["--apply", "--yes"]);
    assert_eq!(
        world.names_of(&applied),
        world.names_of(&planned),
        "applying plans what the dry run planned"
    );
    assert_eq!(emulator.server().changes().len(), applied.len());
    for gone in &applied {
        assert!(
            !registry.has(gone),
            "{} is deleted upstream",
            world.name_of(gone)
        );
    }
    for kept in [
        &world.shared_amd64,
        &world.i1,
        &world.i1_arm64,
        &world.cosign_signature,
        &world.sbom,
        &world.sbom_signature,
    ] {
        assert!(registry.has(kept), "{} stays upstream", world.name_of(kept));
    }
    let again = prune(&emulator, work.path(), &[]);

    let tags: BTreeSet<String> = http()
        .get(registry.url("tags/list"))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let cosign_tag = format!("{}.sig", world.i1.replacen(':', "-", 1));
    let expected_tags: BTreeSet<String> = [cosign_tag.as_str(), "latest", "main", "v1.0.0"]
        .map(str::to_owned)
        .into();
    assert_eq!(tags, expected_tags, "every tag survives upstream");
    for tag in &tags {
        let pulled = work.path().join(format!("pulled-{tag}"));
        run(
            "skopeo",
            &[
                "copy",
                "--all",
                "--quiet",
                "--src-tls-verify=false",
                &format!("docker://{}/{REPOSITORY}:{tag}", registry.host()),
                &format!("oci:{}:x", pulled.display()),
            ],
        );
    }

    let verified = emulator
        .ghpkg(
            TOKEN,
            &[
                "--org",
                demo::ACME,
                "verify",
                "container",
                REPOSITORY,
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", printed(&verified));
    json_of(&verified, "verify.schema.json");

    // The planning semantics, checked last so that everything above is exercised whatever the
    // planner decides: every version's manifest is read, and an attestation listed only by a
    // deleted index goes with it (I0's amd64 attestation, though the amd64 image it describes
    // is shared with I1 and stays), so a second prune has nothing left to delete. The planner
    // before issue 15 kept that attestation in the first plan and deleted it in the second.
    // One assertion for both plans, so that a failure shows both.
    assert_eq!(
        (world.names_of(&planned), world.names_of(&again)),
        (world.names_of(&expected), Vec::new()),
        "(the first plan, the second plan): the first deletes the old image and I0's own \
         manifests and nothing of I1's; the second, after the apply, nothing"
    );
}
