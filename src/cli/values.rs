//! The values options take, parsed and range-checked as the command line is
//! read: numbers within bounds, durations with units, and clap's side of
//! the library's plain enums.

use clap::ValueEnum;

use crate::cloud::client::SignatureVersion;
use crate::manifest::MaxChanges;
use crate::render::Format;
use crate::resource::ResourceType;

pub(super) fn parse_max_changes(text: &str) -> Result<MaxChanges, String> {
    text.parse()
}

pub(super) fn parse_type(text: &str) -> Result<ResourceType, String> {
    text.parse()
}

/// A number, finite and within `range`, or a message that says which.
pub(super) fn parse_bounded(
    text: &str,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !range.contains(&value) {
        return Err(format!(
            "must be between {} and {}, not {text}",
            range.start(),
            range.end()
        ));
    }
    Ok(value)
}

/// A client-side rate: at least 0.1/s, so that a typo cannot stall a run
/// for hours with nothing printed, and finite (NaN and infinity are not
/// "unlimited": leave the option out for that).
pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    parse_bounded(text, 0.1..=10_000.0)
}

/// A span of time: a whole number with a unit, `ms`, `s`, `m` or `h`
/// (`500ms`, `90s`, `5m`), from 1 ms to a day.
pub(super) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` needs a unit: ms, s, m or h (for example 90s or 5m)"))?;
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 90s or 5m"))?;
    let millis = match unit {
        "ms" => Some(number),
        "s" => number.checked_mul(1_000),
        "m" => number.checked_mul(60_000),
        "h" => number.checked_mul(3_600_000),
        _ => {
            return Err(format!(
                "`{text}`: the unit must be ms, s, m or h (for example 90s or 5m)"
            ))
        }
    }
    .filter(|ms| (1..=86_400_000).contains(ms))
    .ok_or_else(|| format!("`{text}` must be from 1ms to 24h"))?;
    Ok(std::time::Duration::from_millis(millis))
}

pub(super) fn parse_quota(text: &str) -> Result<crate::api::quota::QuotaSpec, String> {
    text.parse()
}

/// A share of calls, from 0 to 1.
pub(super) fn parse_share(text: &str) -> Result<f64, String> {
    parse_bounded(text, 0.0..=1.0)
}

/// A lifetime for temporary keys: a whole number with `s`, `m` or `h`
/// (seconds when bare), from 1 s to 12 h, the longest session STS grants
/// (DOC-AR: `DurationSeconds` up to the role's MaxSessionDuration, 43200).
pub(super) fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.trim().char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text.trim()[..i], c),
        _ => (text.trim(), 's'),
    };
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => return Err(format!("`{text}`: use a number with s, m or h, such as 5s")),
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("`{text}` is not a duration such as 5s, 2m or 1h"))?;
    if !(1..=43_200).contains(&seconds) {
        return Err(format!("must be between 1s and 12h, not {text}"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// `--signature`'s values: clap's side of [`SignatureVersion`], which
/// stays free of clap.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum SignatureArg {
    V1,
    V3,
}

impl From<SignatureArg> for SignatureVersion {
    fn from(arg: SignatureArg) -> SignatureVersion {
        match arg {
            SignatureArg::V1 => SignatureVersion::V1,
            SignatureArg::V3 => SignatureVersion::V3,
        }
    }
}

/// `--format`'s values: clap's side of [`Format`], which stays free of
/// clap.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum FormatArg {
    Text,
    Json,
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}
