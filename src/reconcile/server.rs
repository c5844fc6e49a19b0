//! The metrics endpoint of `regroup reconcile`: `/metrics` in Prometheus'
//! text format, `/healthz` for a liveness probe (200 while the loop runs).

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::metrics::Metrics;

/// The content type of `prometheus-client`'s text encoding (OpenMetrics
/// 1.0.0, which Prometheus negotiates and parses).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `metrics` on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
) -> std::io::Result<()> {
    let router =
        Router::new()
            .route(
                "/metrics",
                get(move || {
                    let metrics = metrics.clone();
                    async move {
                        ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode()).into_response()
                    }
                }),
            )
            .route("/healthz", get(|| async { "ok\n" }));
    axum::serve(listener, router).await
}
