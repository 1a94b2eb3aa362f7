//! Property tests of what reads hostile input: the `Link` parser, the name rules, the journal
//! reader. None may panic, hang or allocate by a number it was given, whatever it is fed.

use std::io::Write;

use ghpkg::PackageType;
use ghpkg::journal::{Journal, JournalScope};
use ghpkg::link::{Links, parse_link_header};
use ghpkg::names::{check_owner, check_package};
use ghpkg::retention::{Owner, Target};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue, LINK};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_link_parser_never_panics_and_keeps_only_text_it_was_given(value in ".{0,400}") {
        let links = parse_link_header(&value);
        for link in &links {
            prop_assert!(value.contains(link.url.as_str()));
            prop_assert!(!link.url.is_empty());
        }
        if let Ok(header) = HeaderValue::from_str(&value) {
            let mut headers = HeaderMap::new();
            headers.insert(LINK, header);
            let _ = Links::from_headers(&headers);
        }
    }

    #[test]
    fn well_formed_links_are_read_back_whatever_their_page_numbers(
        next in 0u64..u64::MAX, last in 0u64..u64::MAX, extra in "[a-z]{0,8}"
    ) {
        let header = format!(
            "<https://x.test/v?page={next}&q={extra}>; rel=\"next\", <https://x.test/v?page={last}>; rel=\"last\""
        );
        let links = parse_link_header(&header);
        prop_assert_eq!(links.len(), 2);
        prop_assert_eq!(&links[0].rels, &vec!["next".to_string()]);
        let expected_url = format!("https://x.test/v?page={}", last);
        prop_assert_eq!(links[1].url.as_str(), expected_url.as_str());
    }

    #[test]
    fn accepted_names_are_never_dot_segments_or_separators(name in "\\PC{0,80}") {
        for package_type in [PackageType::Container, PackageType::Npm, PackageType::Maven, PackageType::Nuget] {
            if check_package(&package_type, &name).is_ok() {
                prop_assert!(!name.is_empty());
                prop_assert!(!name.contains('\\'));
                prop_assert!(!name.contains('%'));
                prop_assert!(name.split('/').all(|s| s != "." && s != ".." && !s.is_empty()));
                prop_assert!(name.chars().all(|c| c.is_ascii_graphic()));
            }
        }
        if check_owner(&name).is_ok() {
            prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        }
    }

    #[test]
    fn the_journal_reader_never_panics_on_arbitrary_or_mutated_files(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        cut in 0usize..2048,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let scope = JournalScope {
            plan: Some("abc".into()),
            target: Target {
                host: "github.com".into(),
                owner: Owner::Org("acme".into()),
                package_type: "container".into(),
            },
            packages: vec!["web/app".into()],
        };
        // Arbitrary bytes.
        let path = dir.path().join("arbitrary.jsonl");
        std::fs::write(&path, &bytes).unwrap();
        let _ = Journal::read(&path, Some(&scope));
        // A valid line, then a valid line cut anywhere: the cut line is dropped, never misread.
        let line = r#"{"journal":1,"at":"2024-01-01T00:00:00Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":7,"name":"v","tags":[],"outcome":"deleted","reason":"delete:older-than"}"#;
        let path = dir.path().join("cut.jsonl");
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "{line}").unwrap();
        let cut = cut.min(line.len());
        file.write_all(&line.as_bytes()[..cut]).unwrap();
        drop(file);
        match Journal::read(&path, Some(&scope)) {
            Ok(state) => {
                prop_assert!(state.entries.len() == 1 || (cut == line.len() && state.entries.len() == 2));
            }
            Err(error) => prop_assert!(false, "a cut last line is not an error: {error}"),
        }
    }
}
