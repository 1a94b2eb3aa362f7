//! Version names and tags cut to what a column can show: digests to their first 12 hex digits,
//! so that a table stays readable and a person can still match them.

/// How many hex digits of a digest are shown.
const SHOWN_HEX: usize = 12;

/// A version name: a digest cut to `sha256:<12 hex>…`; other names as they are.
pub fn short_name(name: &str) -> String {
    match name.split_once(':') {
        Some((algorithm, hex)) if is_long_hex(hex) => {
            format!("{algorithm}:{}…", &hex[..SHOWN_HEX])
        }
        _ => name.to_string(),
    }
}

/// A tag: a cosign or referrers tag (`sha256-<hex>.sig`) cut to `sha256-<12 hex>….sig`; other
/// tags as they are.
pub fn short_tag(tag: &str) -> String {
    let Some((algorithm, rest)) = tag.split_once('-') else {
        return tag.to_string();
    };
    let (hex, suffix) = rest
        .split_once('.')
        .map_or((rest, ""), |(hex, suffix)| (hex, suffix));
    if !algorithm.starts_with("sha") || !is_long_hex(hex) {
        return tag.to_string();
    }
    let suffix = if suffix.is_empty() {
        String::new()
    } else {
        format!(".{suffix}")
    };
    format!("{algorithm}-{}…{suffix}", &hex[..SHOWN_HEX])
}

/// Tags as a column shows them: comma-separated, `-` for none.
pub fn tag_list(tags: &[String]) -> String {
    if tags.is_empty() {
        "-".to_string()
    } else {
        tags.iter()
            .map(|tag| short_tag(tag))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn is_long_hex(text: &str) -> bool {
    text.len() > SHOWN_HEX && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_attachment_tags_are_cut_and_other_names_kept() {
        let hex = "ab".repeat(32);
        assert_eq!(short_name(&format!("sha256:{hex}")), "sha256:abababababab…");
        assert_eq!(short_name("1.2.3"), "1.2.3");
        assert_eq!(
            short_tag(&format!("sha256-{hex}.sig")),
            "sha256-abababababab….sig"
        );
        assert_eq!(short_tag(&format!("sha256-{hex}")), "sha256-abababababab…");
        assert_eq!(short_tag("v1.2.0"), "v1.2.0");
        assert_eq!(short_tag("release-275"), "release-275");
        assert_eq!(tag_list(&[]), "-");
    }
}
