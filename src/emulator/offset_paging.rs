//! Paging by an offset token, as the emulator serves Quota Center's
//! `ListProductQuotas` and Resource Manager's `ListAutoGroupingRules`: a
//! bounded `MaxResults` and a `NextToken` that is the position of the next
//! item. The tokens are the emulator's own; clients only pass them back.

use super::gateway::{Failure, Params};

/// `MaxResults`: `default` when unset, else `min` to `max` or
/// `InvalidParameter`.
pub fn max_results(
    params: &Params,
    min: usize,
    max: usize,
    default: usize,
) -> Result<usize, Failure> {
    match params.get("MaxResults") {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                Failure::invalid("MaxResults", &format!("valid values: {min} to {max}"))
            }),
    }
}

/// Where the page starts: 0 without a `NextToken`.
pub fn start(params: &Params) -> Result<usize, Failure> {
    match params.get("NextToken").filter(|t| !t.is_empty()) {
        None => Ok(0),
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| Failure::invalid("NextToken", "not a token this service gave")),
    }
}

/// The `NextToken` after serving `served` items from `start` of `total`:
/// empty on the last page.
pub fn next_token(start: usize, served: usize, total: usize) -> String {
    let next = start + served;
    if next < total {
        next.to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::emulator::gateway::params_of as params;

    #[test]
    fn sizes_are_bounded_and_tokens_are_positions() {
        assert_eq!(max_results(&params(&[]), 1, 50, 50), Ok(50));
        assert_eq!(
            max_results(&params(&[("MaxResults", "7")]), 1, 50, 50),
            Ok(7)
        );
        for bad in ["0", "51", "x"] {
            let refused = max_results(&params(&[("MaxResults", bad)]), 1, 50, 50).unwrap_err();
            assert_eq!(refused.code, "InvalidParameter", "MaxResults={bad}");
        }
        assert_eq!(start(&params(&[("NextToken", "")])), Ok(0));
        assert_eq!(start(&params(&[("NextToken", "4")])), Ok(4));
        assert_eq!(
            start(&params(&[("NextToken", "x")])).unwrap_err().code,
            "InvalidParameter"
        );
        assert_eq!(next_token(0, 2, 3), "2");
        assert_eq!(next_token(2, 1, 3), "");
    }
}
