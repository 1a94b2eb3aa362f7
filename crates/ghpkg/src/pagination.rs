//! Pagination: [`Page`] values, and the streams that walk every page of a listing.
//!
//! ghpkg follows the `next` URLs GitHub sends (parsed by [`crate::link`]), through
//! [`ghpkg_api::Client::get_page`], so every page goes through the same headers, pacing and
//! retries, on the client's own origin only. For speed, when the first page names its `last`
//! page, the URLs of the pages after it are derived from the server's own `next` URL by setting
//! its `page` parameter, lazily: a window of [`Paging::Concurrent`] pages is in flight at a time,
//! and pages are yielded in order. Nothing is allocated by the number the server put in `last`.
//!
//! Derived paging stops at the first page that is short or empty (the listing ended, or the
//! server does not page as it said), and at the derived end; from there the stream follows that
//! page's `next` link, if any, one page at a time. A `next` link that points to a page already
//! fetched ends the stream with [`Error::Pagination`], and an empty
//! page ends it.

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, BoxStream, FuturesOrdered, Stream, StreamExt, TryStreamExt};
use ghpkg_api::ResponseValue;
use ghpkg_api::operations::Action;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::link::Links;
use crate::operation::Operation;
use crate::owner::Owner;

/// The page size streams use unless told otherwise (GitHub's maximum).
pub const STREAM_PER_PAGE: u32 = 100;

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
fn with_page(url: &url::Url, page: u32) -> String {
    let mut url = url.clone();
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
    url.into()
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
    /// When the first page names its `last` page, keep up to this many derived pages in flight
    /// (see the module docs); otherwise follow `next` links.
    Concurrent(usize),
}

/// Fetches the page at an absolute URL taken from a `Link` header.
pub(crate) type FetchPage<T> =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Page<T>>> + Send + Sync>;

/// What a stream needs to walk pages.
pub(crate) struct Walk<T> {
    /// Fetches one page by URL.
    pub fetch: FetchPage<T>,
    /// How to walk.
    pub paging: Paging,
    /// The page size asked for: a shorter page ends derived paging.
    pub per_page: u32,
    /// The listing's operation, for errors.
    pub operation: Operation,
}

/// Every item of a listing of `action` for `owner`, from its `first` page on: later pages are
/// fetched through `client` by the URLs the `Link` headers give, walked as `paging` says (the
/// client's concurrency when `None`). The one way a listing becomes a stream.
pub(crate) fn listing<T>(
    client: Client,
    owner: Owner,
    action: Action,
    first: BoxFuture<'static, Result<Page<T>>>,
    per_page: u32,
    paging: Option<Paging>,
) -> impl Stream<Item = Result<T>> + Send + Unpin + 'static
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    let paging = paging.unwrap_or(Paging::Concurrent(client.concurrency()));
    let operation = action.spec(crate::owner::family(&owner)).into();
    let fetch: FetchPage<T> = Arc::new(move |url: String| {
        let client = client.clone();
        let owner = owner.clone();
        async move {
            client
                .get_page::<Vec<T>>(action, &owner, &url)
                .await
                .map(Page::from_response)
        }
        .boxed()
    });
    let walk = Walk {
        fetch,
        paging,
        per_page,
        operation,
    };
    items(pages(first, walk))
}

/// Derived pages in flight, in order.
struct Window<T> {
    in_flight: FuturesOrdered<BoxFuture<'static, Result<Page<T>>>>,
    /// The URLs of the pages in flight, in the same order.
    urls: std::collections::VecDeque<String>,
    /// The `next` URL the derived ones are built from.
    template: url::Url,
    /// The next page number to derive.
    next_page: u32,
    /// The last page number to derive.
    last_page: u32,
}

/// Where a page stream is.
enum State<T> {
    /// The first page has not been fetched.
    Start(BoxFuture<'static, Result<Page<T>>>),
    /// Derived pages are being fetched, a window at a time.
    Derived(Window<T>),
    /// Following `next` links one at a time.
    Follow(String),
    /// The walk cannot go on: yield this error, then end.
    Failed(Error),
    /// Finished, or stopped after an error.
    Done,
}

/// Every page, starting with `first` and going on as `walk` says, in order. The stream ends
/// after the first error.
pub(crate) fn pages<T: Send + 'static>(
    first: BoxFuture<'static, Result<Page<T>>>,
    walk: Walk<T>,
) -> impl Stream<Item = Result<Page<T>>> + Send + 'static {
    let walk = Arc::new(walk);
    let seen: HashSet<String> = HashSet::new();
    stream::unfold((State::Start(first), seen), move |(state, mut seen)| {
        let walk = walk.clone();
        async move {
            let (item, next) = step(state, &walk, &mut seen).await?;
            Some((item, (next, seen)))
        }
    })
}

/// Yields the next page and the state after it, or `None` at the end.
async fn step<T: Send + 'static>(
    state: State<T>,
    walk: &Walk<T>,
    seen: &mut HashSet<String>,
) -> Option<(Result<Page<T>>, State<T>)> {
    match state {
        State::Done => None,
        State::Failed(error) => Some((Err(error), State::Done)),
        State::Start(first) => Some(match first.await {
            Ok(page) => {
                let next = after_first(&page, walk, seen);
                (Ok(page), next)
            }
            Err(error) => (Err(error), State::Done),
        }),
        State::Derived(mut window) => {
            let page = match window.in_flight.next().await? {
                Ok(page) => page,
                Err(error) => return Some((Err(error), State::Done)),
            };
            // Only pages actually yielded count as seen: a derived page dropped unfetched may
            // still be reached by following links.
            if let Some(url) = window.urls.pop_front() {
                seen.insert(url);
            }
            let full = page.items.len() >= walk.per_page as usize;
            let next =
                if !full || (window.in_flight.is_empty() && window.next_page > window.last_page) {
                    // Short, empty, or the derived end: the pages in flight are dropped (and their
                    // requests cancelled); the server's own `next` link says what follows.
                    follow(&page, walk, seen)
                } else {
                    refill(&mut window, walk);
                    State::Derived(window)
                };
            Some((Ok(page), next))
        }
        State::Follow(url) => Some(match (walk.fetch)(url).await {
            Ok(page) => {
                let next = follow(&page, walk, seen);
                (Ok(page), next)
            }
            Err(error) => (Err(error), State::Done),
        }),
    }
}

/// What follows the first page: a window of derived pages, or link following.
fn after_first<T: Send + 'static>(
    page: &Page<T>,
    walk: &Walk<T>,
    seen: &mut HashSet<String>,
) -> State<T> {
    let Paging::Concurrent(in_flight) = walk.paging else {
        return follow(page, walk, seen);
    };
    let derived = (|| {
        let next = page.links.next.as_deref()?;
        let first = page_number(next)?;
        let last = page_number(page.links.last.as_deref()?)?;
        let template = url::Url::parse(next).ok()?;
        (in_flight > 1 && last >= first && page.items.len() >= walk.per_page as usize)
            .then_some((template, first, last))
    })();
    let Some((template, first, last)) = derived else {
        return follow(page, walk, seen);
    };
    let mut window = Window {
        in_flight: FuturesOrdered::new(),
        urls: std::collections::VecDeque::new(),
        template,
        next_page: first,
        last_page: last,
    };
    refill(&mut window, walk);
    State::Derived(window)
}

/// Starts derived pages until the window is full or the derived end is reached.
fn refill<T: Send + 'static>(window: &mut Window<T>, walk: &Walk<T>) {
    let Paging::Concurrent(in_flight) = walk.paging else {
        return;
    };
    while window.in_flight.len() < in_flight && window.next_page <= window.last_page {
        let url = with_page(&window.template, window.next_page);
        window.in_flight.push_back((walk.fetch)(url.clone()));
        window.urls.push_back(url);
        window.next_page = window.next_page.saturating_add(1);
        if window.next_page == u32::MAX {
            break;
        }
    }
}

/// Follows `page`'s `next` link, unless the page is empty; a link already fetched is a loop.
fn follow<T>(page: &Page<T>, walk: &Walk<T>, seen: &mut HashSet<String>) -> State<T> {
    let Some(next) = &page.links.next else {
        return State::Done;
    };
    if page.items.is_empty() {
        return State::Done;
    }
    if !seen.insert(next.clone()) {
        return State::Failed(Error::Pagination {
            operation: walk.operation,
            message: format!(
                "the next link {} points back to a page already fetched",
                crate::classify::excerpt(next)
            ),
        });
    }
    State::Follow(next.clone())
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn walk(fetch: FetchPage<u32>, paging: Paging, per_page: u32) -> Walk<u32> {
        Walk {
            fetch,
            paging,
            per_page,
            operation: ghpkg_api::operations::Action::ListVersions
                .spec(ghpkg_api::operations::OwnerFamily::Org)
                .into(),
        }
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
        let items: Vec<u32> = items(pages(first, walk(fetch, paging, 10)))
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
        let (items, pages) = collect(Paging::Concurrent(8), 7).await;
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
        let results: Vec<Result<u32>> = items(pages(first, walk(fetch, Paging::Concurrent(3), 1)))
            .collect()
            .await;
        assert_eq!(results.len(), 3, "{results:?}");
        assert!(results[2].is_err());
    }

    #[tokio::test]
    async fn a_last_page_near_a_billion_is_derived_lazily_and_ends_at_the_first_short_page() {
        let fetched = Arc::new(AtomicUsize::new(0));
        let counter = fetched.clone();
        let fetch: FetchPage<u32> = Arc::new(move |url: String| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let page = page_number(&url).unwrap_or(1);
                // Pages 1-3 are full; page 4 is short and the last, whatever `last` claims.
                let items = if page <= 3 {
                    vec![page; 10]
                } else {
                    vec![page; 4]
                };
                Ok(Page {
                    items,
                    links: Links {
                        next: (page < 4).then(|| format!("https://x.test/?page={}", page + 1)),
                        last: Some("https://x.test/?page=999999999".into()),
                        ..Links::default()
                    },
                })
            }
            .boxed()
        });
        let first = fetch("https://x.test/?page=1".into());
        let started = std::time::Instant::now();
        let all: Vec<u32> = items(pages(first, walk(fetch, Paging::Concurrent(4), 10)))
            .try_collect()
            .await
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(all.len(), 34, "pages 1-3 full, then page 4, short");
        assert!(
            fetched.load(Ordering::SeqCst) <= 1 + 4 + 4 + 1,
            "a window at a time: {}",
            fetched.load(Ordering::SeqCst)
        );
    }

    #[tokio::test]
    async fn a_next_link_that_points_back_ends_with_a_typed_error() {
        let fetch: FetchPage<u32> = Arc::new(|url: String| {
            async move {
                let page = page_number(&url).unwrap_or(1);
                Ok(Page {
                    items: vec![page],
                    links: Links {
                        // 1 -> 2 -> 1 -> 2 ...
                        next: Some(format!("https://x.test/?page={}", 3 - page)),
                        ..Links::default()
                    },
                })
            }
            .boxed()
        });
        let first = fetch("https://x.test/?page=1".into());
        let results: Vec<Result<u32>> = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            items(pages(first, walk(fetch, Paging::Sequential, 1))).collect(),
        )
        .await
        .expect("a loop ends");
        let error = results.last().unwrap().as_ref().unwrap_err();
        assert!(matches!(error, Error::Pagination { .. }), "{error:?}");
        assert!(
            results.len() <= 4,
            "pages 1, 2 and 1 again at most, then the error: {results:?}"
        );
    }
}
