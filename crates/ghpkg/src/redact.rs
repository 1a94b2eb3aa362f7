//! Secrets out of messages: the restore token, the one secret a URL of ours can carry, never
//! appears in an error's URL.

/// Replaces the value of a `token` query parameter (the restore token) in the error's URL.
pub(crate) fn redact(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut()
        && url.query_pairs().any(|(name, _)| name == "token")
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if name == "token" {
                    "<redacted>".to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    error
}
