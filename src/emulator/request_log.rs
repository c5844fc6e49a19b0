//! The emulator's request log (`--log FILE`, and in memory for
//! [`super::Emulator::requests`]): one entry per answered request, naming
//! the account it acted in, without its signature, and with secret
//! parameters masked.

use std::collections::BTreeMap;

use serde::Serialize;

use super::gateway::Params;
use super::Shared;

/// One request as the log records it: without its signature or tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    /// The account the request acted in: its key's.
    pub account: String,
    pub action: String,
    pub params: BTreeMap<String, String>,
    pub status: u16,
    pub code: Option<String>,
}

/// Records one answered request in the log file and in memory, as the
/// settings ask.
pub(super) fn log(
    shared: &Shared,
    account: &str,
    action: &str,
    params: &Params,
    status: u16,
    code: Option<&str>,
) {
    if !shared.settings.record_requests && shared.log_file.is_none() {
        return;
    }
    let entry = LoggedRequest {
        account: account.to_owned(),
        action: action.to_owned(),
        params: params
            .iter()
            .filter(|(k, _)| k.as_str() != "Signature")
            .map(|(k, v)| {
                // Tokens are secrets: the log says one was sent, not which.
                let shown = if crate::api::SECRET_PARAMETERS.contains(&k.as_str()) {
                    "***".to_owned()
                } else {
                    v.clone()
                };
                (k.clone(), shown)
            })
            .collect(),
        status,
        code: code.map(str::to_owned),
    };
    if let Some(file) = &shared.log_file {
        if let (Ok(mut file), Ok(line)) = (file.lock(), serde_json::to_string(&entry)) {
            use std::io::Write;
            let _ = writeln!(file, "{line}");
        }
    }
    if shared.settings.record_requests {
        if let Ok(mut log) = shared.log.lock() {
            log.push(entry);
        }
    }
}
