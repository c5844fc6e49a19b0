//! Who a client's credentials are: STS `GetCallerIdentity`, for `whoami`
//! and the account label of `reconcile`'s metrics.

use super::client::{Call, Client, CloudError, NO_PARAMS};
use super::credentials;
use crate::api::Service;

/// Who the client's credentials are. GetCallerIdentity takes no parameters
/// and answers AccountId, Arn, IdentityType (DOC-GCI,
/// https://www.alibabacloud.com/help/doc-detail/43767.htm; fixtures
/// tests/fixtures/api/sts_GetCallerIdentity*.json).
pub async fn caller_identity(client: &Client) -> Result<serde_json::Value, CloudError> {
    let host = credentials::sts_host(&credentials::Environment::from_process());
    let url = client.transport().endpoints().sts_url(&host);
    client
        .call::<serde_json::Value>(
            &Call::new(Service::Sts, None, "GetCallerIdentity", NO_PARAMS).at(&url),
        )
        .await
        .result
}
