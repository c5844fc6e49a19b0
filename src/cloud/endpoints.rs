//! Where calls go and which routes are safe: the real regional endpoints
//! (from [`crate::api::endpoints`]) or one `--endpoint` URL for all, plain
//! http only to loopback, and which requests must bypass a proxy.

use super::redact::redact;
use crate::api::Service;

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("`{0}` is not a URL")]
    NotAUrl(String),
    #[error("`{0}`: only https:// and http:// endpoints are supported")]
    Scheme(String),
    #[error("`{0}`: plain http:// is accepted only for loopback addresses (127.0.0.0/8, ::1, localhost); use https://")]
    PlainHttpNotLoopback(String),
}

/// Whether a request to `url` must bypass any proxy: a loopback host is on
/// this machine (a proxy elsewhere cannot even reach it), and plain http
/// must not carry signatures, keys or tokens to a proxy in the clear. An
/// unparsable URL goes direct, to be safe.
pub fn goes_direct(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|parsed| parsed.scheme() != "https" || is_loopback(&parsed))
        .unwrap_or(true)
}

/// Whether `url` names a loopback host (127.0.0.0/8, ::1, `localhost`).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Where each call goes: the real regional endpoints, or one URL for all
/// (`--endpoint`), such as the emulator's.
#[derive(Debug, Clone)]
pub enum Endpoints {
    AlibabaCloud,
    Override(String),
}

impl Endpoints {
    /// Checks an `--endpoint` URL: https anywhere, plain http only to loopback,
    /// so that signatures and tokens never cross a network in the clear.
    pub fn override_with(url: &str) -> Result<Endpoints, EndpointError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| EndpointError::NotAUrl(redact(url)))?;
        match parsed.scheme() {
            "https" => {}
            "http" => {
                if !is_loopback(&parsed) {
                    return Err(EndpointError::PlainHttpNotLoopback(redact(url)));
                }
            }
            _ => return Err(EndpointError::Scheme(redact(url))),
        }
        // A user and password in the URL would go out as HTTP Basic
        // authentication on every call; regroup authenticates by signature
        // only, so they are dropped here (and redacted wherever the URL is
        // shown).
        let mut bare = parsed;
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        Ok(Endpoints::Override(
            bare.as_str().trim_end_matches('/').to_owned(),
        ))
    }

    /// Whether calls must go straight to the endpoint, whatever the proxy
    /// variables say: a loopback endpoint is on this machine (a proxy
    /// elsewhere cannot even reach it), and plain http, accepted only for
    /// loopback, must not carry signed requests and tokens to a proxy in the
    /// clear. Alibaba Cloud's own endpoints are all https and may be proxied.
    pub fn direct_only(&self) -> bool {
        match self {
            Endpoints::AlibabaCloud => false,
            Endpoints::Override(url) => goes_direct(url),
        }
    }

    /// The URL of an STS host the credential chain chose
    /// (`sts[-vpc].<region>.aliyuncs.com`), or the override.
    pub fn sts_url(&self, host: &str) -> String {
        match self {
            Endpoints::Override(url) => url.clone(),
            Endpoints::AlibabaCloud => format!("https://{host}"),
        }
    }

    pub fn url(&self, service: Service, region: Option<&str>) -> String {
        match self {
            Endpoints::Override(url) => url.clone(),
            Endpoints::AlibabaCloud => {
                format!("https://{}", crate::api::endpoints::host(service, region))
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:1",
            "http://[::1]:9",
            "https://ecs.example.com",
        ] {
            assert!(Endpoints::override_with(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://127.0.0.1",
            "nonsense",
        ] {
            assert!(Endpoints::override_with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_https_beyond_this_machine_may_go_through_a_proxy() {
        for direct in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://127.0.0.2:443",
            "https://localhost",
        ] {
            let endpoints = Endpoints::override_with(direct).unwrap();
            assert!(endpoints.direct_only(), "{direct}");
        }
        assert!(!Endpoints::override_with("https://ecs.example.com")
            .unwrap()
            .direct_only());
        assert!(!Endpoints::AlibabaCloud.direct_only());
    }

    #[test]
    fn real_endpoints_follow_the_sdk_map() {
        let e = Endpoints::AlibabaCloud;
        assert_eq!(
            e.url(Service::Ecs, Some("cn-hangzhou")),
            "https://ecs-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            e.url(Service::Ecs, Some("cn-shanghai")),
            "https://ecs.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(e.url(Service::Ecs, None), "https://ecs.aliyuncs.com");
        assert_eq!(
            e.url(Service::ResourceManager, Some("cn-shanghai")),
            "https://resourcemanager.aliyuncs.com"
        );
        assert_eq!(e.url(Service::Sts, None), "https://sts.aliyuncs.com");
    }
}
