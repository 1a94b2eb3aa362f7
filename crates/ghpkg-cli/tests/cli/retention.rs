//! The rule flags of `prune`, end to end: what the CLI asks the engine is what the user wrote.

use ghpkg_mock::fixture::demo::{HELLO_DOCKER, HELLO_DOCKER_VERSION_IDS, OCTOCAT};
use serde_json::Value;

use crate::support::{Emulator, json_of, printed};

#[test]
fn keep_counts_the_protected_latest_among_its_places() {
    // hello_docker: `latest, 1.0.2` (newest), `1.0.1`, `1.0.0`, and two untagged versions.
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg(
            ghpkg_mock::tokens::OCTOCAT_ALL,
            &[
                "--user",
                OCTOCAT,
                "prune",
                "container",
                HELLO_DOCKER,
                "--include",
                "1.0.*",
                "--keep",
                "2",
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    let reasons: Vec<(i64, &str)> = result["plan"]["packages"][0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_i64().unwrap(), d["reason"].as_str().unwrap()))
        .collect();
    let [newest, second, third, ..] = HELLO_DOCKER_VERSION_IDS;
    assert_eq!(
        &reasons[..3],
        [
            (newest, "keep:protected-tag"),
            (second, "keep:newest-n"),
            (third, "delete:beyond-newest-n"),
        ]
    );
    let deletions: Vec<i64> = result["plan"]["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d: &Value| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(deletions, [third]);
}
