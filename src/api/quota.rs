//! API flow-control quotas as the services publish them: a limit of `N`
//! calls per window of `W`, counted per (action, region) in fixed calendar
//! windows, and Quota Center's `Period` form of the window. Shared by the
//! emulator, which enforces and reports quotas, and the client, which reads
//! them to pace its calls.
//!
//! Sources (docs/sources/signing-quotas.md §5 and §6):
//! - ECS "API throttling" (https://help.aliyun.com/zh/ecs/developer-reference/api-throttling):
//!   limits per account, region and API, in calendar minutes ("throttled in
//!   minute T, allowed again in minute T+1"); probe at 1 QPS after a throttle.
//! - `alibabacloud-quotas20200510==1.2.2` `models.py`
//!   `ListProductQuotasResponseBodyQuotasPeriod` (l.4276): `PeriodValue` int,
//!   `PeriodUnit` one of `second|minute|hour|day|week`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The code and message of a call refused by flow control, HTTP 400: the
/// STS FAQ's wording of `Throttling.User`, and the 400 the product team
/// confirms at https://developer.aliyun.com/ask/571020 (signing-quotas.md §5).
pub const THROTTLING_USER: (&str, &str) = (
    "Throttling.User",
    "Request was denied due to user flow control.",
);

/// The header in which a retry hint may come, in milliseconds, as
/// `alibabacloud_tea_openapi` 0.4.6 `Utils.get_throttling_time_left`
/// (utils.py l.567) and `DaraCore.sleep` read it (signing-quotas.md §4).
pub const RETRY_AFTER_HEADER: &str = "x-acs-retry-after";

/// The FlowControl category of Quota Center quotas: API rate limits
/// (`ListProductQuotasRequest.QuotaCategory`, models.py l.4143).
pub const FLOW_CONTROL: &str = "FlowControl";

/// A limit of `limit` calls per `window` for `action` (`*`: every action
/// without its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaSpec {
    pub action: String,
    pub limit: u32,
    pub window: Duration,
}

impl QuotaSpec {
    /// `*=N/1s`: what `--qps N` means.
    pub fn per_second(limit: u32) -> QuotaSpec {
        QuotaSpec {
            action: "*".into(),
            limit,
            window: Duration::from_secs(1),
        }
    }
}

impl fmt::Display for QuotaSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}/{}s",
            self.action,
            self.limit,
            self.window.as_secs()
        )
    }
}

impl FromStr for QuotaSpec {
    type Err = String;

    /// `ACTION=N/Ws`, e.g. `JoinResourceGroup=300/60s` or `*=200/1s`.
    fn from_str(text: &str) -> Result<QuotaSpec, String> {
        let shape = || {
            format!(
                "`{text}` is not ACTION=N/Ws (for example JoinResourceGroup=300/60s or '*=200/1s')"
            )
        };
        let (action, rate) = text.split_once('=').ok_or_else(shape)?;
        let (limit, window) = rate.split_once('/').ok_or_else(shape)?;
        let action = action.trim();
        if action != "*"
            && (action.is_empty() || !action.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(format!(
                "`{text}`: the action must be an API name such as JoinResourceGroup, or *"
            ));
        }
        let limit: u32 = limit
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                format!("`{text}`: the limit must be a whole number of calls, at least 1")
            })?;
        let seconds: u64 = window
            .trim()
            .strip_suffix('s')
            .and_then(|s| s.parse().ok())
            .filter(|s| (1..=7 * 86_400).contains(s))
            .ok_or_else(|| format!("`{text}`: the window must be whole seconds with an `s`, from 1s to a week (604800s)"))?;
        Ok(QuotaSpec {
            action: action.to_owned(),
            limit,
            window: Duration::from_secs(seconds),
        })
    }
}

/// The units a Quota Center `Period` may have, with their length.
const UNITS: [(&str, u64); 5] = [
    ("week", 7 * 86_400),
    ("day", 86_400),
    ("hour", 3_600),
    ("minute", 60),
    ("second", 1),
];

/// A window as Quota Center writes it: the largest unit that divides it
/// exactly (60 s is `{1, minute}`, as in tests/fixtures/api/ListProductQuotas.json).
pub fn period_of(window: Duration) -> (u64, &'static str) {
    let seconds = window.as_secs().max(1);
    UNITS
        .iter()
        .find(|(_, length)| seconds % length == 0)
        .map(|(unit, length)| (seconds / length, *unit))
        .unwrap_or((seconds, "second"))
}

/// The window a Quota Center `Period` stands for; `None` for a unit
/// outside the model's list or a zero value.
pub fn window_of(value: u64, unit: &str) -> Option<Duration> {
    let (_, length) = UNITS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))?;
    (value > 0).then(|| Duration::from_secs(value.saturating_mul(*length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        let spec: QuotaSpec = "JoinResourceGroup=40/60s".parse().unwrap();
        assert_eq!(
            spec,
            QuotaSpec {
                action: "JoinResourceGroup".into(),
                limit: 40,
                window: Duration::from_secs(60)
            }
        );
        assert_eq!(spec.to_string(), "JoinResourceGroup=40/60s");
        assert_eq!(
            "*=200/1s".parse::<QuotaSpec>().unwrap(),
            QuotaSpec::per_second(200)
        );
        for (bad, says) in [
            ("JoinResourceGroup", "is not ACTION=N/Ws"),
            ("Join=40", "is not ACTION=N/Ws"),
            ("=40/60s", "the action"),
            ("Join Group=40/60s", "the action"),
            ("Join=0/60s", "the limit"),
            ("Join=x/60s", "the limit"),
            ("Join=40/60", "the window"),
            ("Join=40/0s", "the window"),
            ("Join=40/1ms", "the window"),
        ] {
            let error = bad.parse::<QuotaSpec>().expect_err(bad);
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn periods_round_trip_in_the_largest_exact_unit() {
        assert_eq!(period_of(Duration::from_secs(60)), (1, "minute"));
        assert_eq!(period_of(Duration::from_secs(1)), (1, "second"));
        assert_eq!(period_of(Duration::from_secs(90)), (90, "second"));
        assert_eq!(period_of(Duration::from_secs(7_200)), (2, "hour"));
        for seconds in [1, 2, 59, 60, 90, 3_600, 86_400, 604_800] {
            let (value, unit) = period_of(Duration::from_secs(seconds));
            assert_eq!(window_of(value, unit), Some(Duration::from_secs(seconds)));
        }
        assert_eq!(window_of(1, "fortnight"), None);
        assert_eq!(window_of(0, "minute"), None);
    }
}
