//! GitHub's page-based pagination: `page`/`per_page` parameters and the `Link` header.

use crate::routes::QueryParams;

/// Items per page when `per_page` is absent.
pub(crate) const DEFAULT_PER_PAGE: u64 = 30;
/// The largest page GitHub serves; larger `per_page` values are clamped to it.
pub(crate) const MAX_PER_PAGE: u64 = 100;
/// Package lists refuse `page × per_page` beyond this.
pub(crate) const MAX_LISTED: u64 = 10_000;

/// The page a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    /// Reads `page` and `per_page`; absent, unparsable or non-positive values take the defaults
    /// (1 and 30), and `per_page` above 100 serves 100, as GitHub does.
    pub fn from_query(query: &QueryParams) -> Self {
        let number = |name| {
            query
                .get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        Self {
            page: number("page").unwrap_or(1),
            per_page: number("per_page")
                .unwrap_or(DEFAULT_PER_PAGE)
                .min(MAX_PER_PAGE),
        }
    }

    /// Whether the request reaches past the first 10,000 results.
    pub fn beyond_listing_limit(&self) -> bool {
        self.page.saturating_mul(self.per_page) > MAX_LISTED
    }

    /// The items on this page.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.page - 1).saturating_mul(self.per_page);
        let start = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(items.len());
        let end = start
            .saturating_add(self.per_page as usize)
            .min(items.len());
        &items[start..end]
    }

    /// The `Link` header for `total` items, or `None` when they fit on one page.
    ///
    /// `url` is the absolute request URL without its query; `raw_query` is kept as it came,
    /// except for `page`. Relations are in GitHub's order: `prev`, `next`, `last`, `first`.
    pub fn link_header(&self, total: usize, url: &str, raw_query: Option<&str>) -> Option<String> {
        let total = total as u64;
        if total <= self.per_page && self.page == 1 {
            return None;
        }
        let last = total.div_ceil(self.per_page).max(1);
        let kept: Vec<&str> = raw_query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("page"))
            .collect();
        let link = |page: u64, rel: &str| {
            let mut query = kept.clone();
            let page = format!("page={page}");
            query.push(&page);
            format!("<{url}?{}>; rel=\"{rel}\"", query.join("&"))
        };
        let mut links = Vec::new();
        if self.page > 1 {
            links.push(link(self.page - 1, "prev"));
        }
        if self.page < last {
            links.push(link(self.page + 1, "next"));
            links.push(link(last, "last"));
        }
        if self.page > 1 {
            links.push(link(1, "first"));
        }
        Some(links.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> PageRequest {
        PageRequest::from_query(&QueryParams::parse(Some(query)))
    }

    #[test]
    fn defaults_and_clamping_follow_github() {
        assert_eq!(
            request(""),
            PageRequest {
                page: 1,
                per_page: 30
            }
        );
        assert_eq!(request("per_page=500&page=2").per_page, 100);
        assert_eq!(request("per_page=0&page=-1"), request(""));
        assert!(request("per_page=100&page=101").beyond_listing_limit());
        assert!(!request("per_page=100&page=100").beyond_listing_limit());
    }

    #[test]
    fn the_first_page_links_next_and_last_keeping_other_parameters() {
        let link = request("package_type=container&per_page=10")
            .link_header(
                25,
                "http://h/orgs/acme/packages",
                Some("package_type=container&per_page=10"),
            )
            .unwrap();
        assert_eq!(
            link,
            "<http://h/orgs/acme/packages?package_type=container&per_page=10&page=2>; rel=\"next\", \
             <http://h/orgs/acme/packages?package_type=container&per_page=10&page=3>; rel=\"last\""
        );
    }

    #[test]
    fn a_middle_page_links_all_four_and_the_last_page_only_back() {
        let middle = request("page=2&per_page=10")
            .link_header(25, "http://h/x", Some("page=2&per_page=10"))
            .unwrap();
        assert_eq!(
            middle,
            "<http://h/x?per_page=10&page=1>; rel=\"prev\", <http://h/x?per_page=10&page=3>; rel=\"next\", \
             <http://h/x?per_page=10&page=3>; rel=\"last\", <http://h/x?per_page=10&page=1>; rel=\"first\""
        );
        let last = request("page=3&per_page=10")
            .link_header(25, "http://h/x", Some("page=3&per_page=10"))
            .unwrap();
        assert_eq!(
            last,
            "<http://h/x?per_page=10&page=2>; rel=\"prev\", <http://h/x?per_page=10&page=1>; rel=\"first\""
        );
    }

    #[test]
    fn everything_on_one_page_has_no_link() {
        assert_eq!(request("").link_header(30, "http://h/x", None), None);
        assert_eq!(request("").slice(&[1, 2, 3]), &[1, 2, 3]);
        assert!(request("page=9").slice(&[1, 2, 3]).is_empty());
    }
}
