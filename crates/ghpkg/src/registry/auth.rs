//! The registry's token exchange, as GHCR does it: the `WWW-Authenticate` challenge of
//! `GET /v2/`, then the token service it names, given the GitHub token as Basic credentials, for
//! a bearer token scoped to one repository's pulls. The GitHub token goes only to a token service
//! on the registry's own origin.

use reqwest::{Method, StatusCode};

use super::Registry;

/// A `Bearer` challenge: where to ask for a token, and for which service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub realm: url::Url,
    pub service: Option<String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"`; `None` for any other scheme.
pub(crate) fn parse_challenge(header: &str) -> Option<(String, Option<String>)> {
    let rest = header.trim();
    let scheme_end = rest.find(char::is_whitespace)?;
    if !rest[..scheme_end].eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut rest = rest[scheme_end..].trim_start();
    while !rest.is_empty() {
        let equals = rest.find('=')?;
        let name = rest[..equals].trim().to_ascii_lowercase();
        rest = rest[equals + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            value = quoted[..end].to_string();
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        match name.as_str() {
            "realm" => realm = Some(value),
            "service" => service = Some(value),
            _ => {}
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
    }
    Some((realm?, service))
}

impl Registry {
    /// `GET /v2/`'s challenge, asked once per run: `None` when the registry needs no token.
    async fn challenge(&self) -> Result<Option<Challenge>, String> {
        self.challenge
            .get_or_init(|| async {
                let url = self
                    .origin
                    .join("/v2/")
                    .map_err(|error| error.to_string())?;
                let answer = self.send(reqwest::Request::new(Method::GET, url)).await?;
                if answer.status.is_success() {
                    return Ok(None);
                }
                let header = answer
                    .challenge
                    .as_deref()
                    .filter(|_| answer.status == StatusCode::UNAUTHORIZED)
                    .ok_or_else(|| answer.failure("asking the registry how to authenticate"))?;
                let (realm, service) = parse_challenge(header).ok_or_else(|| {
                    "the registry's challenge is not a Bearer challenge ghpkg understands"
                        .to_string()
                })?;
                let realm = self.origin.join(&realm).map_err(|error| {
                    format!("the registry's token service is not a URL: {error}")
                })?;
                if realm.origin() != self.origin.origin() {
                    return Err(format!(
                        "the registry's token service is on {}, not on {}; ghpkg sends the \
                         token nowhere else",
                        realm.origin().ascii_serialization(),
                        self.origin.origin().ascii_serialization()
                    ));
                }
                Ok(Some(Challenge { realm, service }))
            })
            .await
            .clone()
    }

    /// The bearer token for pulling from `repository` (exchanged once and kept; again when
    /// `renew`), or `None` when the registry needs none.
    pub(super) async fn bearer(
        &self,
        repository: &str,
        renew: bool,
    ) -> Result<Option<String>, String> {
        let Some(challenge) = self.challenge().await? else {
            return Ok(None);
        };
        if !renew
            && let Some(bearer) = self
                .bearers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get(repository)
        {
            return Ok(Some(bearer.clone()));
        }
        let mut url = challenge.realm.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("scope", &format!("repository:{repository}:pull"));
            if let Some(service) = &challenge.service {
                query.append_pair("service", service);
            }
        }
        let mut request = reqwest::Request::new(Method::GET, url);
        if let Some(token) = &self.token {
            use base64::Engine as _;
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                self.username,
                token.expose_secret()
            ));
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Basic {credentials}"))
                .map_err(|_| "the token cannot be sent".to_string())?;
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, value);
        }
        let answer = self.send(request).await?;
        if answer.status != StatusCode::OK {
            return Err(answer.failure("exchanging the token for the registry"));
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let parsed: TokenAnswer = serde_json::from_slice(&answer.body)
            .map_err(|error| format!("the registry's token answer is not JSON: {error}"))?;
        let bearer = parsed
            .token
            .or(parsed.access_token)
            .filter(|token| !token.is_empty() && token.len() <= 16 * 1024)
            .ok_or_else(|| "the registry's token answer holds no usable token".to_string())?;
        self.bearers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(repository.to_string(), bearer.clone());
        Ok(Some(bearer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghcrs_challenge_is_read() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#
            ),
            Some(("https://ghcr.io/token".into(), Some("ghcr.io".into())))
        );
        assert_eq!(
            parse_challenge("bearer realm=https://r.test/token"),
            Some(("https://r.test/token".into(), None))
        );
        assert_eq!(parse_challenge(r#"Basic realm="x""#), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
        assert_eq!(parse_challenge(r#"Bearer realm="unterminated"#), None);
    }
}
