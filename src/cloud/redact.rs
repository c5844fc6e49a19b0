//! Secrets kept out of messages and logs: tokens echoed in error bodies,
//! passwords in URLs, and the secret parameters of a request.

/// `text` with secrets that can end up in messages masked as `***`: the
/// value of a `SecurityToken` parameter (plain, or percent-encoded once or
/// twice, as in an echoed string to sign), and the user information of a
/// URL (`http://user:password@host` becomes `http://***@host`).
pub fn redact(text: &str) -> String {
    redact_userinfo(&redact_token(text))
}

fn redact_token(text: &str) -> String {
    const NAME: &str = "SecurityToken";
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
    while let Some(at) = rest.find(NAME) {
        let after_name = &rest[at + NAME.len()..];
        out.push_str(&rest[..at + NAME.len()]);
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
}
