//! Secrets kept out of messages and logs: the run's own secret values
//! wherever they appear, in every form a message can hold them (registered
//! with [`register_secret`] as requests carry them), the value of a secret
//! parameter or field, bearer tokens, passwords in URLs, and the secret
//! parameters of a request.

use std::sync::{PoisonError, RwLock};

use super::credentials::Credentials;
use crate::api::sign::percent_encode;

/// `text` with secrets that can end up in messages masked as `***`: every
/// registered secret, raw or percent-encoded once (as in a query) or twice
/// (as in an echoed string to sign), also when a message was cut short in
/// the middle of one; the value of a `SecurityToken`, `OIDCToken` or
/// `AccessKeySecret` parameter or JSON field whatever its value; a bearer
/// token; and the user information of a URL (`http://user:password@host`
/// becomes `http://***@host`).
pub fn redact(text: &str) -> String {
    redact_userinfo(&redact_bearer(&redact_named(&redact_known(text))))
}

/// Registered secrets shorter than this are not masked by value: a real
/// AccessKeySecret or token is far longer, and masking every occurrence of
/// a short word would garble messages. (Such a value is still masked where
/// a parameter or field names it.)
const MIN_SECRET_CHARS: usize = 8;

/// At most this many secrets are remembered, the oldest forgotten first: a
/// reconcile loop that runs for weeks gets a new STS token every hour, and a
/// token that old has expired.
const MAX_SECRETS: usize = 256;

/// The registered secrets, each in the forms a message can hold it, longest
/// first: percent-encoded twice, once, and raw.
static KNOWN: RwLock<Vec<[String; 3]>> = RwLock::new(Vec::new());

/// Remembers a secret value of this run, so that [`redact`] masks it in any
/// message, whatever parameter or field it stands in. Called with the
/// secrets each request carries ([`register_request`], from the transport)
/// and with the keys it is signed with ([`register_credentials`]).
pub fn register_secret(value: &str) {
    if value.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    let known = |list: &[[String; 3]]| list.iter().any(|forms| forms[2] == value);
    if known(&KNOWN.read().unwrap_or_else(PoisonError::into_inner)) {
        return;
    }
    let once = percent_encode(value);
    let twice = percent_encode(&once);
    let mut list = KNOWN.write().unwrap_or_else(PoisonError::into_inner);
    if known(&list) {
        return;
    }
    if list.len() >= MAX_SECRETS {
        list.remove(0);
    }
    list.push([twice, once, value.to_owned()]);
}

/// Registers the secret and the STS token of keys a request is signed with.
pub fn register_credentials(credentials: &Credentials) {
    register_secret(credentials.access_key_secret.expose());
    if let Some(token) = &credentials.security_token {
        register_secret(token.expose());
    }
}

/// Headers whose whole value is a secret.
const TOKEN_HEADERS: [&str; 2] = ["x-acs-security-token", "x-aliyun-ecs-metadata-token"];

/// Registers the secrets a request carries: the values of its secret query
/// parameters (`SecurityToken`, `OIDCToken`), of its token headers (the
/// V3 signature's STS token, the ECS metadata token) and of a bearer
/// `Authorization`.
pub fn register_request(url: &str, headers: &[(&str, String)]) {
    // (Not `Signature`: it is new on every request, and useless to anyone
    // without the key.)
    let carries_one = SECRET_NAMES.iter().any(|name| url.contains(name));
    if let Some(parsed) = carries_one.then(|| reqwest::Url::parse(url).ok()).flatten() {
        parsed
            .query_pairs()
            .filter(|(name, _)| SECRET_NAMES.contains(&name.as_ref()))
            .for_each(|(_, value)| register_secret(&value));
    }
    for (name, value) in headers {
        if TOKEN_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            register_secret(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            if let Some(token) = bearer_token(value) {
                register_secret(token);
            }
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` value.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn redact_known(text: &str) -> String {
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for forms in known.iter() {
        for form in forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), "***");
            }
        }
    }
    for form in known.iter().flatten() {
        if let Some(start) = cut_short_at(&out, form) {
            out.replace_range(start.., "***");
        }
    }
    out
}

/// Where `text` ends in the first part (at least [`MIN_SECRET_CHARS`]
/// characters) of `secret`: a message cut to a length in the middle of it.
fn cut_short_at(text: &str, secret: &str) -> Option<usize> {
    let first = secret.chars().next()?;
    let window = text.len().saturating_sub(secret.len());
    text.match_indices(first)
        .map(|(at, _)| at)
        .filter(|at| *at >= window)
        .find(|at| {
            text[*at..].chars().count() >= MIN_SECRET_CHARS && secret.starts_with(&text[*at..])
        })
}

/// The parameters and JSON fields whose value is a secret whatever it is.
const SECRET_NAMES: [&str; 3] = ["SecurityToken", "OIDCToken", "AccessKeySecret"];

fn redact_named(text: &str) -> String {
    // Each `=` with the `&` of its own encoding level: a token's own `&`
    // is encoded one level deeper than the separator after it (`%2526`
    // inside a string-to-sign whose separators are `%26`), so it never
    // ends the value early. A JSON field ends at its closing quote.
    const LEVELS: [(&str, &str); 5] = [
        ("=", "&"),
        ("%3D", "%26"),
        ("%253D", "%2526"),
        ("\":\"", "\""),
        ("\": \"", "\""),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, name)) = SECRET_NAMES
        .iter()
        .filter_map(|name| rest.find(name).map(|at| (at, *name)))
        .min()
    {
        let after_name = &rest[at + name.len()..];
        out.push_str(&rest[..at + name.len()]);
        let Some((equals, ends)) = LEVELS.iter().find(|(e, _)| after_name.starts_with(*e)) else {
            rest = after_name;
            continue;
        };
        out.push_str(equals);
        let value = &after_name[equals.len()..];
        let end = value
            .char_indices()
            .find(|(i, c)| {
                c.is_whitespace()
                    || matches!(c, '"' | '\'' | ',' | ')')
                    || value[*i..].starts_with(ends)
            })
            .map_or(value.len(), |(i, _)| i);
        out.push_str("***");
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// `Bearer TOKEN` (in any case) with the token masked.
fn redact_bearer(text: &str) -> String {
    const SCHEME: &str = "bearer ";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, _) in lower.match_indices(SCHEME) {
        if at < done {
            continue;
        }
        let token_starts = at + SCHEME.len();
        let token_len = text[token_starts..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ')'))
            .unwrap_or(text.len() - token_starts);
        if token_len == 0 {
            continue;
        }
        out.push_str(&text[done..token_starts]);
        out.push_str("***");
        done = token_starts + token_len;
    }
    out.push_str(&text[done..]);
    out
}

fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_starts = at + 3;
        out.push_str(&rest[..authority_starts]);
        let after = &rest[authority_starts..];
        let authority_len = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..authority_len].rfind('@') {
            Some(user_ends) => {
                out.push_str("***");
                rest = &after[user_ends..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// `k=v` pairs for a log line, secrets replaced by `***`.
pub(crate) fn redacted(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            if crate::api::SECRET_PARAMETERS.contains(k) {
                format!("{k}=***")
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_url_passwords_are_redacted() {
        for (text, expected) in [
            (
                "string to sign is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3DCAIS%252Bab%253D%253D%26Timestamp%3D1",
                "string to sign is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D***%26Timestamp%3D1",
            ),
            (
                "SecurityToken=abc&SignatureMethod=HMAC-SHA1 and SecurityToken=xyz",
                "SecurityToken=***&SignatureMethod=HMAC-SHA1 and SecurityToken=***",
            ),
            ("SecurityToken is mandatory", "SecurityToken is mandatory"),
            // A token with `&`: encoded once in the query, twice in the
            // string-to-sign; no part of it may survive.
            (
                "string to sign is:GET&%2F&SecurityToken%3Dtok%2526en%252Bx%26Timestamp%3D1",
                "string to sign is:GET&%2F&SecurityToken%3D***%26Timestamp%3D1",
            ),
            (
                "?SecurityToken=tok%26en&Version=1",
                "?SecurityToken=***&Version=1",
            ),
            (
                r#"{"SecurityToken":"tok&en=x","Code":"E"}"#,
                r#"{"SecurityToken":"***","Code":"E"}"#,
            ),
            (
                "`http://user:p%40ss@127.0.0.1:8/x`: no response from https://a:b@h?q=1",
                "`http://***@127.0.0.1:8/x`: no response from https://***@h?q=1",
            ),
            (
                "http://127.0.0.1:9/?a=b@c and mail@example.com",
                "http://127.0.0.1:9/?a=b@c and mail@example.com",
            ),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    /// A token with every character that encoding changes: `&`, `=`, `+`,
    /// `/`, `%`.
    const AWKWARD_TOKEN: &str = "CAIS&tok=en+with/slash%25and%more==";

    #[test]
    fn a_registered_secret_is_masked_raw_and_encoded_once_and_twice() {
        register_secret(AWKWARD_TOKEN);
        let once = percent_encode(AWKWARD_TOKEN);
        let twice = percent_encode(&once);
        assert_eq!(
            once, "CAIS%26tok%3Den%2Bwith%2Fslash%2525and%25more%3D%3D",
            "the gateway's encoding"
        );
        for (text, expected) in [
            (
                format!("rejected {AWKWARD_TOKEN} here"),
                "rejected *** here",
            ),
            (
                format!("x-acs-security-token: {AWKWARD_TOKEN}"),
                "x-acs-security-token: ***",
            ),
            (format!("?Foo={once}&Bar=1"), "?Foo=***&Bar=1"),
            (
                format!("string to sign is:POST&%2F&Token%3D{twice}%26Version%3D1"),
                "string to sign is:POST&%2F&Token%3D***%26Version%3D1",
            ),
            (format!("{AWKWARD_TOKEN}{once}{twice}"), "*********"),
            // A body cut to its first 200 characters in the middle of it.
            (format!("echo: {}", &AWKWARD_TOKEN[..12]), "echo: ***"),
        ] {
            assert_eq!(redact(&text), expected, "{text}");
        }
    }

    #[test]
    fn short_values_are_not_masked_wherever_they_appear() {
        register_secret("abc");
        assert_eq!(redact("abc and abcdef"), "abc and abcdef");
    }

    #[test]
    fn the_keys_a_request_is_signed_with_are_registered() {
        use crate::cloud::credentials::Secret;
        let credentials = Credentials {
            access_key_id: "LTAI-redact-test".into(),
            access_key_secret: Secret::new("sec/ret+with=signs&more%"),
            security_token: Some(Secret::new("STS.token/with+signs==")),
        };
        register_credentials(&credentials);
        let text = "key sec/ret+with=signs&more% token STS.token%2Fwith%2Bsigns%3D%3D";
        assert_eq!(redact(text), "key *** token ***");
    }

    #[test]
    fn the_secrets_a_request_carries_are_registered() {
        let oidc = "eyJhbGciOiJSUzI1NiJ9.oidc+/=&%";
        let url = format!(
            "http://127.0.0.1:1/?Action=AssumeRoleWithOIDC&OIDCToken={}&RoleArn=acs%3Aram",
            percent_encode(oidc)
        );
        let headers = [
            (
                "X-aliyun-ecs-metadata-token",
                "metadata-token-value".to_owned(),
            ),
            ("Authorization", "Bearer sso-access-token-value".to_owned()),
            ("x-acs-action", "DescribeInstances".to_owned()),
        ];
        register_request(&url, &headers);
        assert_eq!(
            redact(&format!(
                "{oidc} metadata-token-value sso-access-token-value DescribeInstances"
            )),
            "*** *** *** DescribeInstances"
        );
    }

    #[test]
    fn named_secrets_and_bearer_tokens_are_masked_unregistered() {
        for (text, expected) in [
            (
                "OIDCToken=never.registered&RoleArn=x",
                "OIDCToken=***&RoleArn=x",
            ),
            (
                r#"{"AccessKeySecret":"never-registered","AccessKeyId":"LTAI"}"#,
                r#"{"AccessKeySecret":"***","AccessKeyId":"LTAI"}"#,
            ),
            (
                "Authorization: Bearer never.registered.jwt, retry",
                "Authorization: Bearer ***, retry",
            ),
            ("authorization: bearer abc", "authorization: bearer ***"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }
}
