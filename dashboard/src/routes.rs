//! The HTTP routes: the pages, the plots, the static assets and `/api/…`.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::api::Sources;
use crate::{pages, plot, DashboardError};

/// Drawn plots: `(competition, plot) → (fingerprint, SVG)`.
type PlotCache = HashMap<(String, String), (String, Arc<String>)>;

/// The router's state: the sources and the plots drawn since the state
/// last changed.
struct App {
    sources: Arc<Sources>,
    /// `(competition, plot) → (fingerprint, SVG)`. Drawing is the costly
    /// part of a page; a plot is redrawn only when the validator wrote.
    plots: tokio::sync::Mutex<PlotCache>,
}

impl Deref for App {
    type Target = Sources;
    fn deref(&self) -> &Sources {
        &self.sources
    }
}

type Shared = State<Arc<App>>;

/// Only this origin's scripts, styles and images; nothing inline.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboard's router over `sources`.
pub fn router(sources: Arc<Sources>) -> Router {
    Router::new()
        .route("/", get(overview_page))
        .route("/competitions/{id}", get(competition_page))
        .route("/model", get(model_page))
        .route("/validators", get(validators_page))
        .route("/pools", get(pools_page))
        .route("/plots/{id}/{kind}", get(plot_svg))
        .route("/static/style.css", get(style))
        .route("/static/refresh.js", get(script))
        .route("/api/fingerprint", get(api_fingerprint))
        .route("/api/overview", get(api_overview))
        .route("/api/competitions/{id}/leaderboard", get(api_leaderboard))
        .route("/api/competitions/{id}/history", get(api_history))
        .route("/api/model", get(api_model))
        .route("/api/model/samples", get(api_samples))
        .route("/api/validators", get(api_validators))
        .route("/api/pools", get(api_pools))
        .fallback(not_found)
        .layer(axum::middleware::map_response(secure))
        .with_state(Arc::new(App {
            sources,
            plots: tokio::sync::Mutex::new(HashMap::new()),
        }))
}

async fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error answered as a page.
struct PageError(DashboardError);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        tracing::warn!(error = %self.0, "dashboard page failed");
        (status, pages::error(status.as_u16(), &self.0.to_string())).into_response()
    }
}

/// An error answered as JSON `{"error": …}`.
struct ApiError(DashboardError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        tracing::warn!(error = %self.0, "dashboard API failed");
        (
            status,
            Json(serde_json::json!({"error": self.0.to_string()})),
        )
            .into_response()
    }
}

impl From<DashboardError> for PageError {
    fn from(e: DashboardError) -> Self {
        Self(e)
    }
}

impl From<DashboardError> for ApiError {
    fn from(e: DashboardError) -> Self {
        Self(e)
    }
}

async fn not_found() -> PageError {
    PageError(DashboardError::NotFound("no such page".into()))
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/style.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/refresh.js"),
    )
}

async fn overview_page(State(s): Shared) -> Result<maud::Markup, PageError> {
    let (o, f) = (s.overview().await?, s.fingerprint().await?);
    Ok(pages::overview(&o, &f))
}

async fn competition_page(
    State(s): Shared,
    Path(id): Path<String>,
) -> Result<maud::Markup, PageError> {
    let (b, f) = (s.leaderboard(&id).await?, s.fingerprint().await?);
    Ok(pages::competition(&b, &f))
}

/// Which model (and which of its evaluations' samples).
#[derive(Deserialize)]
struct ModelQuery {
    hotkey: String,
    commitment: String,
    sync: Option<u64>,
    competition: Option<u16>,
    #[serde(default)]
    page: usize,
}

async fn model_page(
    State(s): Shared,
    Query(q): Query<ModelQuery>,
) -> Result<maud::Markup, PageError> {
    let m = s.model(&q.hotkey, &q.commitment).await?;
    // The chosen evaluation's samples, the latest by default.
    let chosen = match (q.sync, q.competition) {
        (Some(sync), Some(c)) => Some((sync, c)),
        _ => m
            .evaluations
            .first()
            .map(|e| (e.sync_block, e.competition_id)),
    };
    let samples = match chosen {
        Some((sync, c)) => Some(s.samples(&q.hotkey, &q.commitment, sync, c, q.page).await?),
        None => None,
    };
    let f = s.fingerprint().await?;
    Ok(pages::model(&m, samples.as_ref(), &f))
}

async fn validators_page(State(s): Shared) -> Result<maud::Markup, PageError> {
    let (v, f) = (s.validators().await?, s.fingerprint().await?);
    Ok(pages::validators(&v, &f))
}

async fn pools_page(State(s): Shared) -> Result<maud::Markup, PageError> {
    let p = s.pools().await?;
    let block = s
        .chain
        .current_block()
        .await
        .map_err(DashboardError::from)?;
    let f = s.fingerprint().await?;
    Ok(pages::pools(&p, block.0, &f))
}

async fn plot_svg(
    State(s): Shared,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (title, y) = match kind.as_str() {
        "scores.svg" => ("Score by round (lower is better)", "score (loss)"),
        "weights.svg" => ("This validator's weights", "weight"),
        "incentive.svg" => ("Incentive on chain", "incentive"),
        _ => {
            return Err(PageError(DashboardError::NotFound(format!(
                "plot {kind:?}"
            ))))
        }
    };
    let fingerprint = s.fingerprint().await?;
    // One drawing per plot and state change, even under many concurrent
    // loads: the lock is held while drawing.
    let mut plots = s.plots.lock().await;
    let key = (id.clone(), kind.clone());
    let svg = match plots.get(&key) {
        Some((f, svg)) if *f == fingerprint => svg.clone(),
        _ => {
            let h = s.history(&id).await?;
            let series = match kind.as_str() {
                "scores.svg" => h.scores,
                "weights.svg" => h.weights,
                _ => h.incentive,
            };
            let svg = Arc::new(plot::lines(title, y, &series));
            plots.insert(key, (fingerprint, svg.clone()));
            svg
        }
    };
    drop(plots);
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        svg.as_str().to_owned(),
    )
        .into_response())
}

async fn api_fingerprint(State(s): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        serde_json::json!({"fingerprint": s.fingerprint().await?}),
    ))
}

async fn api_overview(State(s): Shared) -> Result<Json<crate::api::Overview>, ApiError> {
    Ok(Json(s.overview().await?))
}

async fn api_leaderboard(
    State(s): Shared,
    Path(id): Path<String>,
) -> Result<Json<crate::api::Leaderboard>, ApiError> {
    Ok(Json(s.leaderboard(&id).await?))
}

async fn api_history(
    State(s): Shared,
    Path(id): Path<String>,
) -> Result<Json<crate::api::History>, ApiError> {
    Ok(Json(s.history(&id).await?))
}

/// Which model.
#[derive(Deserialize)]
struct ModelKeyQuery {
    hotkey: String,
    commitment: String,
}

async fn api_model(
    State(s): Shared,
    Query(q): Query<ModelKeyQuery>,
) -> Result<Json<crate::api::ModelPage>, ApiError> {
    Ok(Json(s.model(&q.hotkey, &q.commitment).await?))
}

/// Which evaluation's samples, and which page.
#[derive(Deserialize)]
struct SamplesQuery {
    hotkey: String,
    commitment: String,
    sync: u64,
    competition: u16,
    #[serde(default)]
    page: usize,
}

async fn api_samples(
    State(s): Shared,
    Query(q): Query<SamplesQuery>,
) -> Result<Json<crate::api::SamplesPage>, ApiError> {
    Ok(Json(
        s.samples(&q.hotkey, &q.commitment, q.sync, q.competition, q.page)
            .await?,
    ))
}

async fn api_validators(State(s): Shared) -> Result<Json<crate::api::Validators>, ApiError> {
    Ok(Json(s.validators().await?))
}

async fn api_pools(State(s): Shared) -> Result<Json<crate::api::PoolsPage>, ApiError> {
    Ok(Json(s.pools().await?))
}
