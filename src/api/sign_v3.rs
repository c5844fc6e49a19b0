//! Signature V3, ACS3-HMAC-SHA256 (and ACS3-HMAC-SM3, which the emulator
//! verifies): the header-signed requests the current official SDKs send by
//! default. Pure functions with no I/O: the client
//! signs with them (`--signature v3`) and the emulator verifies with them.
//!
//! Sources (docs/sources/signing-quotas.md §1): the official document "V3
//! request structure and signature"
//! (<https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>)
//! and its implementation in `alibabacloud_tea_openapi==0.4.6`
//! (`utils.py`: `get_canonical_query_string` l.68, `get_canonicalized_headers`
//! l.88, `Utils.get_authorization` l.431). The tests check this module
//! against vectors that SDK computed (tests/fixtures/api/acs3_vectors.json),
//! the document's worked example among them.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sm3::Sm3;

/// The algorithm regroup signs with.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A V3 signature algorithm: the hash of the payload and of the canonical
/// request, and the HMAC of the string to sign. The V3 document lists
/// ACS3-HMAC-SHA256 and ACS3-HMAC-SM3; `alibabacloud_openapi_util==0.2.4`
/// `client.py` implements both (`signature_method` l.41–48, `Client.hash`
/// l.395–400), SM3 being China's GB/T 32905-2016 hash, and the Tea SDKs
/// sign with it when `signature_algorithm` says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha256,
    HmacSm3,
}

impl Algorithm {
    /// Its name, as `Authorization` and the string to sign begin.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => ALGORITHM,
            Algorithm::HmacSm3 => "ACS3-HMAC-SM3",
        }
    }

    fn of_name(name: &str) -> Option<Algorithm> {
        [Algorithm::HmacSha256, Algorithm::HmacSm3]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// Lower-case hex hash of `bytes`.
    pub fn hash_hex(self, bytes: &[u8]) -> String {
        match self {
            Algorithm::HmacSha256 => format!("{:x}", Sha256::digest(bytes)),
            Algorithm::HmacSm3 => format!("{:x}", Sm3::digest(bytes)),
        }
    }

    /// The name and the hex hash of the canonical request, on two lines.
    pub fn string_to_sign(self, canonical_request: &str) -> String {
        format!(
            "{}\n{}",
            self.name(),
            self.hash_hex(canonical_request.as_bytes())
        )
    }

    /// Lower-case hex HMAC keyed with the secret itself (unlike V1, no `&`
    /// is appended).
    pub fn signature_of(self, secret: &str, string_to_sign: &str) -> String {
        let key = secret.as_bytes();
        let bytes = match self {
            Algorithm::HmacSha256 => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts a key of any length");
                mac.update(string_to_sign.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Algorithm::HmacSm3 => {
                let mut mac =
                    Hmac::<Sm3>::new_from_slice(key).expect("HMAC accepts a key of any length");
                mac.update(string_to_sign.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The hex SHA-256 of an empty body, the `x-acs-content-sha256` of a
/// request without one.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lower-case hex SHA-256 of `bytes`: the `HashedPayload` of a body and
/// the hash inside the string to sign.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Algorithm::HmacSha256.hash_hex(bytes)
}

/// The canonical query: parameters sorted by name in byte order, each
/// `name=value` with RFC 3986 encoding (space `%20`, `*` `%2A`), joined
/// with `&`; an empty value gives `name=`. The SDK leaves names unencoded
/// and the document encodes them: the same for every name an API has
/// (`Tag.1.Key`).
pub fn canonical_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    super::sign::sorted_and_encoded(params)
}

/// Names as the `SignedHeaders` list writes them: lower case, sorted, once
/// each.
pub fn signed_header_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().map(str::to_ascii_lowercase).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The canonical headers for `signed` (lower-case names, sorted): one
/// `name:value\n` line per name, the value trimmed; a name sent more than
/// once has its values sorted and joined with `,`. `None` names a signed
/// header the request does not carry.
pub fn canonical_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    signed: &[String],
) -> Result<String, String> {
    let mut out = String::new();
    for name in signed {
        let mut values: Vec<&str> = headers
            .clone()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        if values.is_empty() {
            return Err(name.clone());
        }
        values.sort_unstable();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// The canonical request. `canonical_headers` already ends each line with
/// `\n`, so a blank line comes before the signed header list.
pub fn canonical_request(
    method: &str,
    path: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed: &[String],
    hashed_payload: &str,
) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!(
        "{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{}\n{hashed_payload}",
        signed.join(";")
    )
}

/// `ACS3-HMAC-SHA256\n` and the hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    Algorithm::HmacSha256.string_to_sign(canonical_request)
}

/// Lower-case hex HMAC-SHA256 keyed with the secret itself (unlike V1, no
/// `&` is appended).
pub fn signature_of(secret: &str, string_to_sign: &str) -> String {
    Algorithm::HmacSha256.signature_of(secret, string_to_sign)
}

/// The parts of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub algorithm: Algorithm,
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    /// `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>`,
    /// with no space after the commas, as the SDK writes it
    /// (`Utils.get_authorization` l.453).
    pub fn header_value(&self) -> String {
        format!(
            "{} Credential={},SignedHeaders={},Signature={}",
            self.algorithm.name(),
            self.access_key_id,
            self.signed_headers.join(";"),
            self.signature
        )
    }

    /// Reads a header value; `None` when it is not an ACS3-HMAC-SHA256 or
    /// ACS3-HMAC-SM3 authorization with all three parts. Spaces after the
    /// commas are tolerated.
    pub fn parse(value: &str) -> Option<Authorization> {
        let (name, rest) = value.trim().split_once(' ')?;
        let algorithm = Algorithm::of_name(name)?;
        let (mut id, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            match name {
                "Credential" => id = Some(value),
                "SignedHeaders" => signed = Some(value),
                "Signature" => signature = Some(value),
                _ => return None,
            }
        }
        let (id, signed, signature) = (id?, signed?, signature?);
        if id.is_empty() || signed.is_empty() || signature.is_empty() {
            return None;
        }
        Some(Authorization {
            algorithm,
            access_key_id: id.to_owned(),
            signed_headers: signed.split(';').map(str::to_owned).collect(),
            signature: signature.to_owned(),
        })
    }
}

/// A request to sign or to check.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The query's parameters, decoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Every header the request carries (or will carry), by name and value.
    pub headers: &'a [(&'a str, &'a str)],
    /// The hex SHA-256 of the exact body bytes.
    pub hashed_payload: &'a str,
}

impl Request<'_> {
    /// The canonical request over the `signed` headers; `Err` names a signed
    /// header the request lacks.
    pub fn canonical(&self, signed: &[String]) -> Result<String, String> {
        let headers = canonical_headers(self.headers.iter().copied(), signed)?;
        Ok(canonical_request(
            self.method,
            self.path,
            &canonical_query(self.query.iter().copied()),
            &headers,
            signed,
            self.hashed_payload,
        ))
    }

    /// Signs every header the request carries, as the SDK does, and returns
    /// the `Authorization`.
    pub fn sign(&self, access_key_id: &str, secret: &str) -> Authorization {
        let signed = signed_header_names(self.headers.iter().map(|(n, _)| *n));
        let canonical = self
            .canonical(&signed)
            .expect("every signed name comes from the request's own headers");
        Authorization {
            algorithm: Algorithm::HmacSha256,
            access_key_id: access_key_id.to_owned(),
            signature: signature_of(secret, &string_to_sign(&canonical)),
            signed_headers: signed,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// Vectors computed by `alibabacloud-tea-openapi==0.4.6`, the official
    /// document's worked example among them (docs/sources/signing-quotas.md
    /// §2).
    fn vectors() -> Vec<Value> {
        serde_json::from_str(include_str!("../../tests/fixtures/api/acs3_vectors.json"))
            .expect("the vectors file is JSON")
    }

    fn text<'a>(value: &'a Value, field: &str) -> &'a str {
        value[field].as_str().unwrap_or_default()
    }

    #[test]
    fn reproduces_every_official_vector() {
        let vectors = vectors();
        assert!(vectors.len() >= 7, "the vectors file lost entries");
        for vector in &vectors {
            let name = text(vector, "name");
            let query: Vec<(&str, &str)> = vector["query"]
                .as_object()
                .expect("query is an object")
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))
                .collect();
            // Every header the SDK set but the Authorization it added last.
            let headers: Vec<(&str, &str)> = vector["headers"]
                .as_object()
                .expect("headers is an object")
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))
                .collect();
            let body = text(vector, "body").as_bytes();
            let hashed = sha256_hex(body);
            if let Some(declared) = headers.iter().find(|(n, _)| *n == "x-acs-content-sha256") {
                assert_eq!(declared.1, hashed, "{name}: body hash");
            }
            let request = Request {
                method: text(vector, "method"),
                path: text(vector, "path"),
                query: &query,
                headers: &headers,
                hashed_payload: &hashed,
            };
            let authorization = request.sign(
                text(vector, "access_key_id"),
                text(vector, "access_key_secret"),
            );
            let canonical = request.canonical(&authorization.signed_headers).unwrap();
            assert_eq!(canonical, text(vector, "canonical_request"), "{name}");
            assert_eq!(
                string_to_sign(&canonical),
                text(vector, "string_to_sign"),
                "{name}"
            );
            assert_eq!(
                authorization.header_value(),
                text(vector, "authorization"),
                "{name}"
            );
            assert_eq!(
                Authorization::parse(text(vector, "authorization")).as_ref(),
                Some(&authorization),
                "{name}"
            );
        }
    }

    /// The document's numbers, as printed on its page, not as the SDK
    /// computed them: the hash of the canonical request and the signature
    /// for both pairings of date and nonce the page shows.
    #[test]
    fn the_documented_examples_give_the_documented_numbers() {
        for vector in vectors()
            .iter()
            .filter(|v| v.get("expected_from_doc").is_some())
        {
            let name = text(vector, "name");
            let expected = &vector["expected_from_doc"];
            let to_sign = string_to_sign(text(vector, "canonical_request"));
            if let Some(hash) = expected["hashed_canonical_request"].as_str() {
                assert_eq!(to_sign, format!("{ALGORITHM}\n{hash}"), "{name}");
            }
            assert_eq!(
                signature_of(text(vector, "access_key_secret"), &to_sign),
                text(expected, "signature"),
                "{name}"
            );
        }
    }

    #[test]
    fn malformed_authorizations_are_refused() {
        for bad in [
            "",
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SM2 Credential=a,SignedHeaders=host,Signature=ff",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ff",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ff,Extra=1",
        ] {
            assert_eq!(Authorization::parse(bad), None, "{bad}");
        }
        let spaced = Authorization::parse(
            "ACS3-HMAC-SHA256 Credential=a, SignedHeaders=host;x-acs-date, Signature=ff",
        )
        .expect("spaces after commas are tolerated");
        assert_eq!(spaced.signed_headers, ["host", "x-acs-date"]);
    }

    #[test]
    fn repeated_headers_are_sorted_and_joined_and_missing_ones_named() {
        let headers = [("X-Acs-B", " 2 "), ("x-acs-b", "1"), ("host", "h")];
        let signed = signed_header_names(headers.iter().map(|(n, _)| *n));
        assert_eq!(signed, ["host", "x-acs-b"]);
        assert_eq!(
            canonical_headers(headers.iter().copied(), &signed).unwrap(),
            "host:h\nx-acs-b:1,2\n"
        );
        assert_eq!(
            canonical_headers(headers.iter().copied(), &["x-acs-date".to_owned()]),
            Err("x-acs-date".to_owned())
        );
    }

    #[test]
    fn a_different_secret_or_body_gives_a_different_signature() {
        let headers = [("host", "h"), ("x-acs-action", "DescribeInstances")];
        let request = |hashed| Request {
            method: "POST",
            path: "/",
            query: &[("RegionId", "cn-hangzhou")],
            headers: &headers,
            hashed_payload: hashed,
        };
        let empty = request(EMPTY_BODY_SHA256);
        let other_body = sha256_hex(b"A=1");
        assert_ne!(empty.sign("id", "one"), empty.sign("id", "two"));
        assert_ne!(
            empty.sign("id", "one"),
            request(&other_body).sign("id", "one")
        );
        assert_eq!(sha256_hex(b""), EMPTY_BODY_SHA256);
    }
}
