//! Starting and stopping the server: a tokio runtime of its own (two async
//! workers, a bounded blocking pool), one jsonrpsee listener for HTTP and one
//! for WebSocket with the configured limits, CORS on HTTP only when origins
//! are configured, and every method of [`crate::api`] registered by kind:
//! quick ones on the async workers, the rest on the blocking pool.

use crate::{
    RpcConfig, RpcContext, RpcError,
    api::{Api, Json, Kind, Method, methods},
    error::ApiError,
    origin::OriginLayer,
    subs::{self, Events, HexIds},
};
use http::HeaderValue;
use jsonrpsee::{
    RpcModule,
    server::{BatchRequestConfig, Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
};
use mosaic_storage::BlockRef;
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// A running server. Dropping it stops it too.
#[derive(Debug)]
pub struct RpcHandle {
    http_addr: SocketAddr,
    ws_addr: SocketAddr,
    http: ServerHandle,
    ws: ServerHandle,
    events: Events,
    stop: Arc<AtomicBool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RpcHandle {
    /// The bound HTTP address.
    pub const fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The bound WebSocket address.
    pub const fn ws_addr(&self) -> SocketAddr {
        self.ws_addr
    }

    /// Tells subscribers that `head` is the new head (after it is committed).
    pub fn notify_new_block(&self, head: BlockRef) {
        self.events.new_block(head);
    }

    /// Stops both listeners, waits for them, and shuts the runtime down.
    /// Call it from outside any async runtime.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.http.stop();
        let _ = self.ws.stop();
        if let Some(runtime) = self.runtime.take() {
            let (http, ws) = (self.http.clone(), self.ws.clone());
            if tokio::runtime::Handle::try_current().is_err() {
                runtime.block_on(async move {
                    let wait = async move {
                        http.stopped().await;
                        ws.stopped().await;
                    };
                    let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
                });
                runtime.shutdown_timeout(Duration::from_secs(2));
            } else {
                runtime.shutdown_background();
            }
        }
    }
}

impl Drop for RpcHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs `method`, turning a panic (a bug) into an internal error so that
/// the connection survives it.
fn guarded(method: Method, api: &Api, params: &Params<'_>) -> Result<Json, ErrorObjectOwned> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| method(api, params)))
        .unwrap_or_else(|_| Err(ApiError::internal("internal error (the method failed)")))
        .map_err(ErrorObjectOwned::from)
}

/// Every method (subscriptions only with `events`: WebSocket).
fn module(api: Arc<Api>, events: Option<Events>) -> Result<RpcModule<Api>, RpcError> {
    let mut module = RpcModule::from_arc(api);
    let register = |e: jsonrpsee::core::RegisterMethodError| RpcError::Register(e.to_string());
    for (name, kind, method) in methods() {
        match kind {
            Kind::Quick => {
                module
                    .register_method(name, move |params, api, _| guarded(method, api, &params))
                    .map_err(register)?;
            }
            Kind::Blocking | Kind::Heavy => {
                module
                    .register_blocking_method(name, move |params, api, _| guarded(method, &api, &params))
                    .map_err(register)?;
            }
        }
    }
    if let Some(events) = events {
        subs::register(&mut module, events)?;
    }
    Ok(module)
}

fn cors(origins: Option<&[String]>) -> Result<Option<CorsLayer>, RpcError> {
    let Some(origins) = origins else { return Ok(None) };
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| RpcError::Config(format!("bad CORS origin {o:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([http::Method::POST, http::Method::GET, http::Method::OPTIONS])
            .allow_headers(Any)
            .max_age(Duration::from_secs(600)),
    ))
}

fn server_config(config: &RpcConfig, ws: bool) -> ServerConfig {
    let limits = &config.limits;
    let builder = ServerConfig::builder()
        .max_request_body_size(limits.max_request_bytes)
        .max_response_body_size(limits.max_response_bytes)
        .max_connections(limits.max_connections)
        .max_subscriptions_per_connection(limits.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch_len))
        .set_id_provider(HexIds);
    if ws { builder.ws_only().build() } else { builder.http_only().build() }
}

/// Starts serving `ctx` with `config`; see [`RpcHandle`].
pub fn start(ctx: RpcContext, config: RpcConfig) -> Result<RpcHandle, RpcError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(64)
        .thread_name("rpc")
        .enable_all()
        .build()
        .map_err(RpcError::Runtime)?;
    let cors = cors(config.cors.as_deref())?;
    let api = Arc::new(Api::new(ctx, config.clone())?);
    let stop = Arc::new(AtomicBool::new(false));
    let started = runtime.block_on(async {
        let events = subs::start(Arc::clone(&api), Arc::clone(&stop));
        let http_methods = module(Arc::clone(&api), None)?;
        let ws_methods = module(Arc::clone(&api), Some(events.clone()))?;
        let http = Server::builder()
            .set_config(server_config(&config, false))
            .set_http_middleware(tower::ServiceBuilder::new().option_layer(cors))
            .build(config.http_addr)
            .await
            .map_err(|source| RpcError::Bind { addr: config.http_addr, source })?;
        let http_addr =
            http.local_addr().map_err(|source| RpcError::Bind { addr: config.http_addr, source })?;
        let ws = Server::builder()
            .set_config(server_config(&config, true))
            .set_http_middleware(
                tower::ServiceBuilder::new().layer(OriginLayer::new(config.ws_origins.clone())),
            )
            .build(config.ws_addr)
            .await
            .map_err(|source| RpcError::Bind { addr: config.ws_addr, source })?;
        let ws_addr = ws.local_addr().map_err(|source| RpcError::Bind { addr: config.ws_addr, source })?;
        let http = http.start(http_methods);
        let ws = ws.start(ws_methods);
        Ok::<_, RpcError>((http_addr, ws_addr, http, ws, events))
    });
    let (http_addr, ws_addr, http, ws, events) = match started {
        Ok(started) => started,
        Err(e) => {
            stop.store(true, Ordering::Relaxed);
            runtime.shutdown_background();
            return Err(e);
        }
    };
    Ok(RpcHandle { http_addr, ws_addr, http, ws, events, stop, runtime: Some(runtime) })
}
