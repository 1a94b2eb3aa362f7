//! Pagination: one RFC 8288 `Link` header parser, [`Page`] values, and the streams that walk
//! every page.
//!
//! ghpkg follows the `next` URLs GitHub sends, as given, through
//! [`ghpkg_api::Client::get_page`] (so every page goes through the same headers, pacing and
//! retries). It never builds page URLs by hand, with one exception, made for speed: when the first
//! page names its `last` page N, the URLs of the pages after `next` up to N are derived from the
//! server's own `last` URL by replacing its `page` query parameter, and fetched a few at a time
//! ([`Paging::Concurrent`]); pages are still yielded in order, and memory holds at most the pages
//! in flight. If page N itself has a `next` link (the list grew meanwhile), the stream goes on
//! following links one by one. [`Paging::Sequential`] turns the exception off.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use ghpkg_api::ResponseValue;
use reqwest::header::{HeaderMap, LINK};

use crate::error::Result;

/// How many pages a stream fetches at once when it may: [`Paging::Concurrent`]'s default.
pub const DEFAULT_PAGE_CONCURRENCY: usize = 4;

/// The page size streams use unless told otherwise (GitHub's maximum).
pub const STREAM_PER_PAGE: u32 = 100;

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

/// The `page` query parameter of `url`.
pub fn page_number(url: &str) -> Option<u32> {
    let url = url::Url::parse(url).ok()?;
    let page = url
        .query_pairs()
        .find(|(name, _)| name == "page")
        .map(|(_, value)| value.into_owned())?;
    page.parse().ok()
}

/// `url` with its `page` query parameter set to `page`.
fn with_page(url: &str, page: u32) -> Option<String> {
    let mut url = url::Url::parse(url).ok()?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == "page" {
                page.to_string()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    Some(url.into())
}

/// The URLs of the pages from `next` up to the page `last` names: `next` itself, then `last`
/// with its `page` replaced. `None` when either has no page number or they are out of order.
fn derived_page_urls(next: &str, last: &str) -> Option<Vec<String>> {
    let first = page_number(next)?;
    let final_page = page_number(last)?;
    if final_page < first {
        return None;
    }
    let mut urls = vec![next.to_string()];
    for page in first + 1..=final_page {
        urls.push(with_page(last, page)?);
    }
    Some(urls)
}

/// One page of results and the links to its neighbours.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The `Link` header's pagination links.
    pub links: Links,
}

impl<T> Page<T> {
    /// Builds a page from a response whose body decoded to items convertible to `T`.
    pub(crate) fn from_response<W: Into<T>>(response: ResponseValue<Vec<W>>) -> Self {
        let links = Links::from_headers(response.headers());
        Page {
            items: response.into_inner().into_iter().map(Into::into).collect(),
            links,
        }
    }

    /// Whether a next page exists.
    pub fn has_next(&self) -> bool {
        self.links.next.is_some()
    }

    /// The number of the last page, when GitHub said.
    pub fn last_page(&self) -> Option<u32> {
        page_number(self.links.last.as_deref()?)
    }

    /// The number of items on this page.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether this page has no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// How a stream walks the pages after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Follow each page's `next` link, one page at a time.
    Sequential,
    /// When the first page names its `last` page, fetch up to this many pages at once (see the
    /// module docs); otherwise follow `next` links.
    Concurrent(usize),
}

impl Default for Paging {
    fn default() -> Self {
        Paging::Concurrent(DEFAULT_PAGE_CONCURRENCY)
    }
}

/// Fetches the page at an absolute URL taken from a `Link` header.
pub(crate) type FetchPage<T> =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Page<T>>> + Send + Sync>;

/// Where a page stream is.
enum State<T> {
    /// The first page has not been fetched.
    Start(BoxFuture<'static, Result<Page<T>>>),
    /// Derived pages are being fetched concurrently; `next` is the last yielded page's link.
    Concurrent {
        pages: BoxStream<'static, Result<Page<T>>>,
        next: Option<String>,
    },
    /// Following `next` links one at a time.
    Follow(Option<String>),
    /// Finished, or stopped after an error.
    Done,
}

/// Every page, starting with `first` and going on as `paging` says, in order. The stream ends
/// after the first error.
pub(crate) fn pages<T: Send + 'static>(
    first: BoxFuture<'static, Result<Page<T>>>,
    fetch: FetchPage<T>,
    paging: Paging,
) -> impl Stream<Item = Result<Page<T>>> + Send + 'static {
    stream::unfold(State::Start(first), move |state| {
        let fetch = fetch.clone();
        async move {
            let mut state = state;
            loop {
                match state {
                    State::Done => return None,
                    State::Start(first) => {
                        let page = match first.await {
                            Ok(page) => page,
                            Err(error) => return Some((Err(error), State::Done)),
                        };
                        let next_state = after_first(&page, &fetch, paging);
                        return Some((Ok(page), next_state));
                    }
                    State::Concurrent { mut pages, next } => match pages.next().await {
                        Some(Ok(page)) => {
                            let next = page.links.next.clone();
                            return Some((Ok(page), State::Concurrent { pages, next }));
                        }
                        Some(Err(error)) => return Some((Err(error), State::Done)),
                        None => state = State::Follow(next),
                    },
                    State::Follow(None) => return None,
                    State::Follow(Some(url)) => {
                        return Some(match fetch(url).await {
                            Ok(page) => {
                                let next = page.links.next.clone();
                                (Ok(page), State::Follow(next))
                            }
                            Err(error) => (Err(error), State::Done),
                        });
                    }
                }
            }
        }
    })
}

/// What follows the first page: derived pages fetched concurrently, or link following.
fn after_first<T: Send + 'static>(
    page: &Page<T>,
    fetch: &FetchPage<T>,
    paging: Paging,
) -> State<T> {
    let Some(next) = page.links.next.clone() else {
        return State::Done;
    };
    let Paging::Concurrent(in_flight) = paging else {
        return State::Follow(Some(next));
    };
    let derived = page
        .links
        .last
        .as_deref()
        .and_then(|last| derived_page_urls(&next, last));
    match derived {
        Some(urls) if in_flight > 1 => {
            let fetch = fetch.clone();
            let pages = stream::iter(urls)
                .map(move |url| fetch(url))
                .buffered(in_flight)
                .boxed();
            State::Concurrent { pages, next: None }
        }
        _ => State::Follow(Some(next)),
    }
}

/// The items of every page, in order; ends after the first error.
pub(crate) fn items<T: Send + 'static>(
    pages: impl Stream<Item = Result<Page<T>>> + Send + 'static,
) -> BoxStream<'static, Result<T>> {
    pages
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use std::sync::Mutex;

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

    #[test]
    fn derived_urls_replace_only_the_page_parameter_of_last() {
        let urls = derived_page_urls(
            "https://x.test/v?per_page=100&page=2",
            "https://x.test/v?per_page=100&page=4&state=active",
        )
        .unwrap();
        assert_eq!(
            urls,
            [
                "https://x.test/v?per_page=100&page=2",
                "https://x.test/v?per_page=100&page=3&state=active",
                "https://x.test/v?per_page=100&page=4&state=active",
            ]
        );
        assert_eq!(
            derived_page_urls("https://x.test/?page=5", "https://x.test/?page=4"),
            None
        );
        assert_eq!(
            derived_page_urls("https://x.test/", "https://x.test/?page=4"),
            None
        );
        assert_eq!(page_number("https://x.test/?page=7&per_page=1"), Some(7));
    }

    /// A fake server with `total` items, `per_page` to a page, and GitHub-style links.
    fn fake(total: u32, per_page: u32, log: Arc<Mutex<Vec<u32>>>) -> FetchPage<u32> {
        Arc::new(move |url: String| {
            let log = log.clone();
            async move {
                let page = page_number(&url).unwrap_or(1);
                log.lock().unwrap().push(page);
                let last = total.div_ceil(per_page).max(1);
                let start = (page - 1) * per_page;
                let items: Vec<u32> = (start..(start + per_page).min(total)).collect();
                let link = |n: u32| format!("https://x.test/items?per_page={per_page}&page={n}");
                let links = Links {
                    next: (page < last).then(|| link(page + 1)),
                    last: (page < last).then(|| link(last)),
                    ..Links::default()
                };
                Ok(Page { items, links })
            }
            .boxed()
        })
    }

    async fn collect(paging: Paging, total: u32) -> (Vec<u32>, Vec<u32>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let fetch = fake(total, 10, log.clone());
        let first = fetch("https://x.test/items?per_page=10&page=1".into());
        let items: Vec<u32> = items(pages(first, fetch, paging))
            .try_collect()
            .await
            .unwrap();
        let requested = log.lock().unwrap().clone();
        (items, requested)
    }

    #[tokio::test]
    async fn concurrent_and_sequential_paging_yield_the_same_items_in_order() {
        let (sequential, sequential_pages) = collect(Paging::Sequential, 95).await;
        let (concurrent, concurrent_pages) = collect(Paging::Concurrent(4), 95).await;
        assert_eq!(sequential, (0..95).collect::<Vec<_>>());
        assert_eq!(concurrent, sequential);
        assert_eq!(sequential_pages, (1..=10).collect::<Vec<_>>());
        let mut sorted = concurrent_pages.clone();
        sorted.sort();
        assert_eq!(sorted, (1..=10).collect::<Vec<_>>(), "each page once");
    }

    #[tokio::test]
    async fn a_single_page_is_fetched_once() {
        let (items, pages) = collect(Paging::default(), 7).await;
        assert_eq!(items.len(), 7);
        assert_eq!(pages, [1]);
    }

    #[tokio::test]
    async fn the_stream_stops_after_the_first_error() {
        let fetch: FetchPage<u32> = Arc::new(|url: String| {
            async move {
                let page = page_number(&url).unwrap_or(1);
                if page == 3 {
                    return Err(crate::Error::invalid_input("boom"));
                }
                Ok(Page {
                    items: vec![page],
                    links: Links {
                        next: Some(format!("https://x.test/?page={}", page + 1)),
                        last: Some("https://x.test/?page=6".into()),
                        ..Links::default()
                    },
                })
            }
            .boxed()
        });
        let first = fetch("https://x.test/?page=1".into());
        let results: Vec<Result<u32>> = items(pages(first, fetch, Paging::Concurrent(3)))
            .collect()
            .await;
        assert_eq!(results.len(), 3, "{results:?}");
        assert!(results[2].is_err());
    }
}
