//! The one `Link` header parser (RFC 8288), and the pagination links it yields.
//!
//! It never fails and never allocates by a number the server chose: malformed entries are
//! skipped, and each link holds only text the header itself contained.

use reqwest::header::{HeaderMap, LINK};

/// One link from a `Link` header: a target URL and its relation types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The target URL, as the server wrote it.
    pub url: String,
    /// The relation types (`next`, `last`, …), lower-cased; one `rel` may hold several.
    pub rels: Vec<String>,
}

/// Parses an RFC 8288 `Link` header value into its links, in order.
///
/// Accepts GitHub's format (`<https://…?page=2>; rel="next", <…>; rel="last"`), quoted or
/// token `rel` values holding several space-separated relation types, other parameters, extra
/// whitespace, and commas or semicolons inside the `<…>` URL. Malformed entries are skipped.
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(after_open) = rest.strip_prefix('<') else {
            // Not the start of a link: skip to the next comma outside quotes, if any.
            match skip_to_next_link(rest) {
                Some(next) => {
                    rest = next;
                    continue;
                }
                None => break,
            }
        };
        let Some(close) = after_open.find('>') else {
            break;
        };
        let url = after_open[..close].trim().to_string();
        rest = &after_open[close + 1..];
        let mut rels = Vec::new();
        // Parameters: `; name=value` or `; name="quoted value"`, until a comma ends the link.
        loop {
            rest = rest.trim_start();
            let Some(after_semicolon) = rest.strip_prefix(';') else {
                break;
            };
            rest = after_semicolon.trim_start();
            let name_end = rest
                .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_whitespace())
                .unwrap_or(rest.len());
            let name = rest[..name_end].to_ascii_lowercase();
            rest = rest[name_end..].trim_start();
            let mut param_value = String::new();
            if let Some(after_equals) = rest.strip_prefix('=') {
                rest = after_equals.trim_start();
                if let Some(quoted) = rest.strip_prefix('"') {
                    let mut chars = quoted.char_indices();
                    let mut end = quoted.len();
                    while let Some((index, c)) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some((_, escaped)) = chars.next() {
                                    param_value.push(escaped);
                                }
                            }
                            '"' => {
                                end = index + 1;
                                break;
                            }
                            other => param_value.push(other),
                        }
                    }
                    rest = &quoted[end.min(quoted.len())..];
                } else {
                    let value_end = rest
                        .find(|c: char| c == ';' || c == ',' || c.is_whitespace())
                        .unwrap_or(rest.len());
                    param_value = rest[..value_end].to_string();
                    rest = &rest[value_end..];
                }
            }
            // RFC 8288: only the first occurrence of `rel` counts.
            if name == "rel" && rels.is_empty() {
                rels = param_value
                    .split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
            }
        }
        if !url.is_empty() {
            links.push(Link { url, rels });
        }
        match skip_to_next_link(rest) {
            Some(next) => rest = next,
            None => break,
        }
    }
    links
}

/// The text after the next comma that is not inside a quoted string, or `None` at the end.
fn skip_to_next_link(text: &str) -> Option<&str> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => return Some(&text[index + 1..]),
            _ => {}
        }
    }
    None
}

/// The pagination links of one response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// The next page, absent on the last page.
    pub next: Option<String>,
    /// The previous page.
    pub prev: Option<String>,
    /// The first page.
    pub first: Option<String>,
    /// The last page.
    pub last: Option<String>,
}

impl Links {
    /// Reads every `Link` header in `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut links = Links::default();
        for value in headers.get_all(LINK) {
            let Ok(value) = value.to_str() else {
                continue;
            };
            for link in parse_link_header(value) {
                for rel in &link.rels {
                    let slot = match rel.as_str() {
                        "next" => &mut links.next,
                        "prev" | "previous" => &mut links.prev,
                        "first" => &mut links.first,
                        "last" => &mut links.last,
                        _ => continue,
                    };
                    if slot.is_none() {
                        *slot = Some(link.url.clone());
                    }
                }
            }
        }
        links
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(links: &[Link]) -> Vec<(String, Vec<String>)> {
        links
            .iter()
            .map(|link| (link.url.clone(), link.rels.clone()))
            .collect()
    }

    #[test]
    fn parses_githubs_exact_format() {
        let header = r#"<https://api.github.com/orgs/acme/packages/container/web%2Fapp/versions?per_page=100&page=2>; rel="next", <https://api.github.com/orgs/acme/packages/container/web%2Fapp/versions?per_page=100&page=30>; rel="last""#;
        let links = parse_link_header(header);
        assert_eq!(
            rels(&links),
            vec![
                (
                    "https://api.github.com/orgs/acme/packages/container/web%2Fapp/versions?per_page=100&page=2".to_string(),
                    vec!["next".to_string()]
                ),
                (
                    "https://api.github.com/orgs/acme/packages/container/web%2Fapp/versions?per_page=100&page=30".to_string(),
                    vec!["last".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn a_quoted_rel_may_hold_several_relation_types() {
        let links = parse_link_header(r#"<https://x.test/?page=3>; rel="next last"; title="end""#);
        assert_eq!(links[0].rels, ["next", "last"]);
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            r#"<https://x.test/?page=3>; rel="NEXT last""#.parse().unwrap(),
        );
        let parsed = Links::from_headers(&headers);
        assert_eq!(parsed.next.as_deref(), Some("https://x.test/?page=3"));
        assert_eq!(parsed.last.as_deref(), Some("https://x.test/?page=3"));
    }

    #[test]
    fn whitespace_and_unquoted_rels_are_accepted() {
        let links = parse_link_header(
            "  < https://x.test/?page=1 >  ;rel = prev ,\t<https://x.test/?page=3>;rel=next  ",
        );
        assert_eq!(
            rels(&links),
            vec![
                ("https://x.test/?page=1".into(), vec!["prev".into()]),
                ("https://x.test/?page=3".into(), vec!["next".into()]),
            ]
        );
    }

    #[test]
    fn commas_and_semicolons_inside_urls_and_quotes_do_not_split_links() {
        let links = parse_link_header(
            r#"<https://x.test/a,b;c?q=1,2&page=2>; title="a, b; c"; rel="next", <https://x.test/?page=9>; rel="last""#,
        );
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].url, "https://x.test/a,b;c?q=1,2&page=2");
        assert_eq!(links[0].rels, ["next"]);
        assert_eq!(links[1].rels, ["last"]);
    }

    #[test]
    fn malformed_entries_are_skipped_and_the_first_rel_wins() {
        let links = parse_link_header(
            r#"garbage, <https://x.test/?page=2>; rel="next"; rel="last", <unterminated"#,
        );
        assert_eq!(
            rels(&links),
            vec![("https://x.test/?page=2".into(), vec!["next".into()])]
        );
        assert!(parse_link_header("").is_empty());
    }

    #[test]
    fn escaped_quotes_in_parameters_are_unescaped() {
        let links = parse_link_header(r#"<https://x.test/>; title="say \"hi\", ok"; rel="next""#);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].rels, ["next"]);
    }
}
