//! The WebSocket origin check (geth's `--ws.origins`): a browser always
//! sends `Origin`, so a handshake carrying one is refused unless the origin
//! is allowed — listed, `*`, or, when nothing is listed, a page served from
//! this machine (`localhost`, `127.0.0.1`, `[::1]`). Clients that are not
//! browsers send no `Origin` and pass.

use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};
use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tower::{Layer, Service};

/// Which origins may open a WebSocket.
#[derive(Debug, Clone)]
pub(crate) struct OriginLayer {
    allowed: Arc<Option<Vec<String>>>,
}

impl OriginLayer {
    /// `allowed`: the listed origins (`*` for any); `None` for this machine only.
    pub(crate) fn new(allowed: Option<Vec<String>>) -> Self {
        let allowed = allowed.map(|list| list.into_iter().map(|o| o.to_ascii_lowercase()).collect());
        Self { allowed: Arc::new(allowed) }
    }
}

/// The host of `scheme://host[:port][/...]`, brackets kept for IPv6.
fn host(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Whether a handshake with `origin` may proceed.
pub(crate) fn origin_allowed(allowed: Option<&[String]>, origin: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let origin = origin.to_ascii_lowercase();
    match allowed {
        Some(list) => list.iter().any(|o| o == "*" || *o == origin),
        None => matches!(host(&origin), "localhost" | "127.0.0.1" | "[::1]"),
    }
}

impl<S> Layer<S> for OriginLayer {
    type Service = OriginCheck<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginCheck { inner, allowed: Arc::clone(&self.allowed) }
    }
}

/// The service [`OriginLayer`] wraps around the server.
#[derive(Debug, Clone)]
pub(crate) struct OriginCheck<S> {
    inner: S,
    allowed: Arc<Option<Vec<String>>>,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

impl<S> Service<HttpRequest> for OriginCheck<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        let origin = request.headers().get(http::header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{0}"));
        if origin_allowed(self.allowed.as_deref(), origin) {
            return Box::pin(self.inner.call(request));
        }
        Box::pin(async {
            HttpResponse::builder()
                .status(http::StatusCode::FORBIDDEN)
                .body(HttpBody::from("origin not allowed"))
                .map_err(BoxError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(origin_allowed(None, None));
        assert!(origin_allowed(None, Some("http://localhost:3000")));
        assert!(origin_allowed(None, Some("http://127.0.0.1")));
        assert!(origin_allowed(None, Some("http://[::1]:8080")));
        assert!(!origin_allowed(None, Some("https://evil.example")));
        assert!(!origin_allowed(None, Some("http://localhost.evil.example")));
        let list = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(Some(&list), Some("https://APP.example")));
        assert!(!origin_allowed(Some(&list), Some("http://localhost")));
        assert!(origin_allowed(Some(&["*".to_owned()]), Some("https://any.example")));
    }
}
