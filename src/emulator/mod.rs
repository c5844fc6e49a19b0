//! A local Alibaba Cloud API server: ECS, Resource Manager, STS, Quota
//! Center's `ListProductQuotas`, Resource Directory and the ECS metadata
//! server, as far as regroup uses them, on one loopback address. It checks
//! requests the way the real gateway does, keeps the account and its
//! Resource Directory's members in memory (and in a state file with
//! `--state`), runs each request in the account its key belongs to, and can
//! be made slow, rate-limited or faulty for tests and benchmarks.

mod acs3;
mod actiontrail;
pub mod api;
pub mod autogroup;
mod connection;
pub mod directory;
mod faults;
pub mod fleet;
pub mod gateway;
mod metadata;
mod offset_paging;
pub mod quota;
mod ram;
mod request_log;
mod resource_center;
pub mod resources;
pub mod state;
pub mod sts;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;

use crate::api::describe::TypeApi;
use fleet::Fleet;
use gateway::{Failure, Format, NonceLog, Params, Received};
use state::{Account, Store};

pub use connection::raise_file_limit;
use request_log::log;
pub use request_log::LoggedRequest;

/// Request bodies larger than this are refused.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How an emulator behaves besides serving its fleet.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Save every change here, and start from it when it exists.
    pub state_file: Option<PathBuf>,
    /// Added to every answer.
    pub latency: Duration,
    /// Calls per second allowed for each (action, region): the same as a
    /// quota `*=N/1s`.
    pub qps: Option<u32>,
    /// Calls allowed per calendar window for each (action, region); beyond
    /// them, `Throttling.User`. An action's own quota beats `*`.
    pub quotas: Vec<crate::api::quota::QuotaSpec>,
    /// Send `x-acs-retry-after` with each throttled answer.
    pub retry_after_header: bool,
    /// Answer `ListProductQuotas` with `Forbidden.RAM`, as for a RAM user
    /// without `quotas:ListProductQuotas`.
    pub deny_quota_center: bool,
    /// Test setting: RAM actions refused to every key in the account (by id).
    pub denied_in_accounts: std::collections::BTreeMap<String, Vec<String>>,
    /// Share of calls (0 to 1) that fail with 503 or a dropped connection.
    pub fault_rate: f64,
    /// Share of `JoinResourceGroup` calls (0 to 1) answered with success
    /// without moving anything, as the real API has been seen to do.
    pub phantom_rate: f64,
    /// Makes faults and phantom joins repeatable: each is a function of the
    /// seed and the request (see `faults`), not of arrival order.
    pub seed: Option<u64>,
    /// Append a JSON line per request to this file.
    pub log_file: Option<PathBuf>,
    /// Keep every request in memory, for [`Emulator::requests`].
    pub record_requests: bool,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// Describe* items of the default group's resources carry an empty
    /// `ResourceGroupId` (`--default-group-id empty`).
    pub empty_default_group_id: bool,
    /// Temporary keys (STS, metadata) live at most this long.
    pub sts_ttl: Option<Duration>,
}

/// How long a connection may stay silent when no `idle_timeout` is given.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            state_file: None,
            latency: Duration::ZERO,
            qps: None,
            quotas: Vec::new(),
            retry_after_header: false,
            deny_quota_center: false,
            denied_in_accounts: std::collections::BTreeMap::new(),
            fault_rate: 0.0,
            phantom_rate: 0.0,
            seed: None,
            log_file: None,
            record_requests: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            empty_default_group_id: false,
            sts_ttl: None,
        }
    }
}

struct Shared {
    store: Store,
    settings: Settings,
    nonces: Mutex<NonceLog>,
    rng: std::sync::Mutex<StdRng>,
    dice: faults::Dice,
    log: std::sync::Mutex<Vec<LoggedRequest>>,
    log_file: Option<std::sync::Mutex<std::fs::File>>,
    metadata_tokens: metadata::Tokens,
    /// Whether any account has auto-grouping rules: without them no
    /// request looks for moves to undo.
    auto_grouping: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(transparent)]
    Fleet(#[from] fleet::FleetError),
    #[error("could not listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("could not open the request log {path}")]
    Log {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the emulator serves only loopback addresses, not {0}")]
    NotLoopback(SocketAddr),
}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Starts serving on `listen` (port 0 picks a free one). The state file,
    /// when it exists, wins over `fleet`.
    pub async fn start(
        fleet: Fleet,
        settings: Settings,
        listen: SocketAddr,
    ) -> Result<Emulator, EmulatorError> {
        if !listen.ip().is_loopback() {
            return Err(EmulatorError::NotLoopback(listen));
        }
        let idle_timeout = settings.idle_timeout;
        let shared = Arc::new(Shared::new(fleet, settings)?);
        let listen_error = |source| EmulatorError::Listen {
            addr: listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;
        let (shutdown, stopping) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(connection::serve(
            listener,
            router(shared.clone()),
            idle_timeout,
            stopping,
        ));
        Ok(Emulator {
            addr,
            shared,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// The emulator as a service, without a socket: for tests and fuzzing,
    /// which send it requests directly.
    pub fn service(fleet: Fleet, settings: Settings) -> Result<axum::Router, EmulatorError> {
        Ok(router(Arc::new(Shared::new(fleet, settings)?)))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to pass as `--endpoint`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, when `record_requests` is on.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// The management account as it is now, with its members.
    pub async fn snapshot(&self) -> Fleet {
        self.shared.store.to_fleet().await
    }

    /// Member account `account_id` as it is now, as a fleet of its own;
    /// `None` when the fleet has no such member.
    pub async fn snapshot_account(&self, account_id: &str) -> Option<Fleet> {
        let slot = self.shared.store.slot_of_account(account_id)?;
        Some(slot.account.read().await.to_fleet())
    }

    /// Changes the management account directly, as another tool or the
    /// console would.
    pub async fn edit(&self, change: impl FnOnce(&mut Account)) {
        edit_slot(self.shared.store.management(), change).await;
    }

    /// Changes account `account_id` (management or member) directly;
    /// `false` when the fleet has no such account.
    pub async fn edit_account(&self, account_id: &str, change: impl FnOnce(&mut Account)) -> bool {
        match self.shared.store.slot_of_account(account_id) {
            Some(slot) => {
                edit_slot(slot, change).await;
                true
            }
            None => false,
        }
    }

    /// Stops serving and waits for requests in flight.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the process is interrupted.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

async fn edit_slot(slot: &state::Slot, change: impl FnOnce(&mut Account)) {
    let mut account = slot.account.write().await;
    change(&mut account);
    account.generation += 1;
}

impl Shared {
    /// The state an emulator serves from: the state file when it exists,
    /// else the fleet.
    fn new(fleet: Fleet, settings: Settings) -> Result<Shared, EmulatorError> {
        let fleet = match &settings.state_file {
            Some(path) if path.exists() => Fleet::load(path)?,
            _ => fleet,
        };
        let log_file = match &settings.log_file {
            Some(path) => Some(std::sync::Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| EmulatorError::Log {
                        path: path.display().to_string(),
                        source,
                    })?,
            )),
            None => None,
        };
        let auto_grouping = fleet.auto_grouping.is_some()
            || fleet.accounts.iter().any(|m| m.auto_grouping.is_some());
        let quotas: Vec<_> = settings
            .qps
            .map(crate::api::quota::QuotaSpec::per_second)
            .into_iter()
            .chain(settings.quotas.iter().cloned())
            .collect();
        let empty_default_group_id = settings.empty_default_group_id;
        Ok(Shared {
            auto_grouping,
            store: Store::new(
                fleet,
                &quotas,
                |account| account.empty_default_group_id = empty_default_group_id,
                settings.state_file.clone(),
            ),
            nonces: Mutex::new(NonceLog::default()),
            rng: std::sync::Mutex::new(match settings.seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            }),
            dice: faults::Dice::new(settings.seed.unwrap_or_else(rand::random)),
            log: std::sync::Mutex::new(Vec::new()),
            log_file,
            metadata_tokens: metadata::Tokens::default(),
            settings,
        })
    }

    /// A random number from the emulator's (seedable) generator.
    fn random(&self) -> u128 {
        self.rng
            .lock()
            .map(|mut r| r.random::<u128>())
            .unwrap_or_default()
    }
}

fn router(shared: Arc<Shared>) -> axum::Router {
    use axum::routing::{get, put};
    axum::Router::new()
        .route("/latest/api/token", put(metadata::token))
        .route(
            "/latest/meta-data/ram/security-credentials/",
            get(metadata::roles),
        )
        .route(
            "/latest/meta-data/ram/security-credentials/{role}",
            get(metadata::credentials),
        )
        .fallback(handle)
        .with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            let failure = Failure::new(
                413,
                "RequestBodyTooLarge",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            );
            let account = shared.store.management().account_id.as_str();
            return answer(
                &shared,
                account,
                Format::Xml,
                "",
                &Params::new(),
                Err(failure),
            );
        }
    };
    let received = Received {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    let params = gateway::decode_received(&received);
    let format = Format::of(&params);
    let action = params.get("Action").cloned().unwrap_or_default();
    // The account the request acts in: its key's (an unsigned call's is
    // the management account).
    let claimed = gateway::claimed_key_id(&received, &params);
    let slot = shared.store.route(
        claimed
            .as_deref()
            .filter(|_| action != "AssumeRoleWithOIDC"),
    );

    if !shared.settings.latency.is_zero() {
        tokio::time::sleep(shared.settings.latency).await;
    }
    let result = serve(&shared, slot, &received, &action, &params).await;
    let account = slot.account_id.as_str();
    let result = match result {
        Ok(Served::Answer(value)) => Ok(value),
        Ok(Served::Drop) => {
            log(
                &shared,
                account,
                &action,
                &params,
                0,
                Some("ConnectionDropped"),
            );
            return dropped_connection();
        }
        Err(failure) => Err(failure),
    };
    answer(&shared, account, format, &action, &params, result)
}

enum Served {
    Answer(serde_json::Value),
    /// Close the connection without an answer.
    Drop,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Unavailable,
    /// Drop the connection; for a write, after making the change, as a
    /// real network can lose the answer to a call that succeeded.
    Drop,
}

/// The fault for this arrival of a request.
fn roll_fault(shared: &Shared, arrival: Option<&faults::Arrival>) -> Fault {
    match arrival {
        Some(arrival) if arrival.roll("fault") < shared.settings.fault_rate => {
            if arrival.roll("kind") < 0.5 {
                Fault::Unavailable
            } else {
                Fault::Drop
            }
        }
        _ => Fault::None,
    }
}

/// Whether this join should succeed without moving anything.
fn roll_phantom(shared: &Shared, arrival: Option<&faults::Arrival>) -> bool {
    arrival.is_some_and(|a| a.roll("phantom") < shared.settings.phantom_rate)
}

async fn serve(
    shared: &Shared,
    slot: &state::Slot,
    received: &Received,
    action: &str,
    params: &Params,
) -> Result<Served, Failure> {
    let now = Utc::now();
    let unsigned = action == "AssumeRoleWithOIDC";
    let key_id = if unsigned {
        None
    } else {
        let account = slot.account.read().await;
        let mut nonces = shared.nonces.lock().await;
        Some(gateway::authenticate_received(
            &account,
            &mut nonces,
            received,
            params,
            now,
        )?)
    };
    let expected = api::version_of(action).ok_or_else(|| {
        Failure::new(
            404,
            "InvalidApi.NotFound",
            format!("Specified api is not found, please check your url and method. ({action})"),
        )
    })?;
    if params.get("Version").is_none_or(|v| v != expected) {
        return Err(Failure::new(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    if let (Some(key_id), Some(service)) = (&key_id, api::service_of(action)) {
        let account = slot.account.read().await;
        let denied_here = shared.settings.denied_in_accounts.get(&account.account_id);
        ram::check_key(&account, key_id, service, action, denied_here)?;
    }
    ram::dry_run(action, params)?;
    if let Some(quotas) = &slot.quotas {
        let region = params
            .get("RegionId")
            .map(String::as_str)
            .unwrap_or_default();
        if let Err(left) = quotas.admit(action, region) {
            return Err(quota::throttled(
                shared.settings.retry_after_header.then_some(left),
            ));
        }
    }
    // Counted only when something is rolled for, so that a plain emulator
    // keeps no per-request memory.
    let arrival = (shared.settings.fault_rate > 0.0 || shared.settings.phantom_rate > 0.0)
        .then(|| shared.dice.arrive(action, params));
    let fault = roll_fault(shared, arrival.as_ref());
    if fault == Fault::Unavailable {
        return Err(Failure::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ));
    }
    enforce_auto_grouping(shared, slot).await?;
    let value = match action {
        autogroup::LIST_AUTO_GROUPING_RULES => {
            autogroup::list_rules(&*slot.account.read().await, params)?
        }
        autogroup::GET_AUTO_GROUPING_STATUS => autogroup::status(&*slot.account.read().await),
        autogroup::LIST_ASSOCIATED_TRANSFER_SETTING => {
            autogroup::associated_transfer_setting(&*slot.account.read().await)
        }
        "JoinResourceGroup" => {
            let generation = {
                let mut account = slot.account.write().await;
                let moved = api::join_resource_group(
                    &mut account,
                    params,
                    !roll_phantom(shared, arrival.as_ref()),
                )?;
                if moved {
                    actiontrail::record_join(&mut account, key_id.as_deref(), params, now);
                }
                account.generation
            };
            persist(shared, slot, generation).await?;
            serde_json::json!({})
        }
        "AssumeRole" | "AssumeRoleWithOIDC" => {
            let random = shared.random();
            let ttl = shared.settings.sts_ttl;
            if action == "AssumeRole" {
                sts::assume_role_in(&shared.store, slot, params, now, random, ttl).await?
            } else {
                let mut account = slot.account.write().await;
                sts::assume_role_with_oidc(&mut account, params, now, random, ttl)?
            }
        }
        actiontrail::LOOKUP_EVENTS => {
            actiontrail::lookup_events(&mut *slot.account.write().await, params, now)?
        }
        "GetCallerIdentity" => sts::get_caller_identity(
            &*slot.account.read().await,
            key_id.as_deref().unwrap_or_default(),
        ),
        resources::LIST_RESOURCES => {
            resources::list_resources(&*slot.account.read().await, params)?
        }
        resources::MOVE_RESOURCES => {
            let (answer, generation) = {
                let mut account = slot.account.write().await;
                let (answer, moved) = resources::move_resources(&mut account, params, || {
                    gateway::request_id(shared.random())
                })?;
                (answer, moved.then_some(account.generation))
            };
            if let Some(generation) = generation {
                persist(shared, slot, generation).await?;
            }
            answer
        }
        crate::api::resource_center::GET_SERVICE_STATUS => {
            resource_center::service_status(&*slot.account.read().await)
        }
        crate::api::resource_center::SEARCH_RESOURCES => {
            resource_center::search_resources(&*slot.account.read().await, params)?
        }
        "ListResourceGroups" => api::list_resource_groups(&*slot.account.read().await, params)?,
        "GetResourceGroup" => api::get_resource_group(&*slot.account.read().await, params)?,
        quota::LIST_PRODUCT_QUOTAS if shared.settings.deny_quota_center => {
            // The RAM error's code and message as ECS sends them
            // (tests/fixtures/api/Error_Forbidden.RAM_DescribeInstances.json).
            return Err(Failure::new(
                403,
                "Forbidden.RAM",
                "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
            ));
        }
        directory::GET_RESOURCE_DIRECTORY => {
            directory::get_resource_directory(shared.store.directory.as_ref(), &slot.account_id)?
        }
        directory::LIST_ACCOUNTS
        | directory::LIST_ACCOUNTS_FOR_PARENT
        | directory::LIST_FOLDERS_FOR_PARENT => {
            let list = match action {
                directory::LIST_ACCOUNTS => directory::list_accounts,
                directory::LIST_ACCOUNTS_FOR_PARENT => directory::list_accounts_for_parent,
                _ => directory::list_folders_for_parent,
            };
            list(shared.store.directory.as_ref(), &slot.account_id, params)?
        }
        quota::LIST_PRODUCT_QUOTAS => {
            let account = slot.account.read().await;
            let regions = account
                .resources
                .values()
                .map(|r| r.region.clone())
                .collect();
            quota::list_product_quotas(slot.quotas.as_ref(), params, &account.account_id, regions)?
        }
        other => {
            let type_api = TypeApi::by_action(other).ok_or_else(|| {
                Failure::new(404, "InvalidApi.NotFound", "Specified api is not found.")
            })?;
            api::describe(&*slot.account.read().await, type_api, params)?
        }
    };
    Ok(if fault == Fault::Drop {
        Served::Drop
    } else {
        Served::Answer(value)
    })
}

/// Lets the auto-grouping rules undo the moves whose delay has passed, so
/// that what is read next sees them undone (saved like any other change).
async fn enforce_auto_grouping(shared: &Shared, slot: &state::Slot) -> Result<(), Failure> {
    // A read lock first: nearly always nothing is waiting.
    if !shared.auto_grouping || slot.account.read().await.pending_transfers.is_empty() {
        return Ok(());
    }
    let generation = {
        let mut account = slot.account.write().await;
        if account.pending_transfers.is_empty()
            || !autogroup::enforce(&mut account, std::time::Instant::now())
        {
            return Ok(());
        }
        account.generation
    };
    persist(shared, slot, generation).await
}

/// Saves the state up to `slot`'s `generation` before the change is
/// answered.
async fn persist(shared: &Shared, slot: &state::Slot, generation: u64) -> Result<(), Failure> {
    shared.store.persist(slot, generation).await.map_err(|e| {
        Failure::new(
            500,
            "InternalError",
            format!("could not save the state: {e}"),
        )
    })
}

fn answer(
    shared: &Shared,
    account: &str,
    format: Format,
    action: &str,
    params: &Params,
    result: Result<serde_json::Value, Failure>,
) -> Response {
    let request_id = gateway::request_id(shared.random());
    let status = result.as_ref().map_or_else(|f| f.status, |_| 200);
    log(
        shared,
        account,
        action,
        params,
        status,
        result.as_ref().err().map(|f| f.code.as_str()),
    );
    let body = gateway::encode(format, action, &result, &request_id);
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, format.content_type())
        .header("x-acs-request-id", request_id);
    if let Some(ms) = result.as_ref().err().and_then(|f| f.retry_after_ms) {
        response = response.header(crate::api::quota::RETRY_AFTER_HEADER, ms);
    }
    response
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// An answer whose body fails at once: the server closes the connection
/// before any complete response reaches the client.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    Response::new(Body::from_stream(failing))
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod fidelity_tests;

#[cfg(test)]
mod filter_tests;

#[cfg(test)]
mod member_tests;
#[cfg(test)]
mod resources_tests;
