//! Bodies that declare more than the contract allows are refused before any handler
//! runs, but read first: a client that writes its whole body before reading (Python's
//! urllib does) would otherwise see its connection reset instead of the 413, because
//! closing a socket with unread data resets it. Up to [`DRAIN_MAX`] bytes are read and
//! thrown away, for at most [`DRAIN_TIME`]; larger bodies are refused at once. The
//! connection then closes.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::error::too_large;

/// The most a refused body is read before its 413.
pub const DRAIN_MAX: u64 = 16 * 1024 * 1024;
/// The longest a refused body is read.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

pub async fn refuse_oversized(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // An import's CSV file may be larger than a JSON body.
    let import = request.uri().path() == curfew::routes::IMPORT_USERS.full_path();
    let limit = if import {
        curfew::limits::IMPORT_BODY_LIMIT_BYTES
    } else {
        curfew::limits::BODY_LIMIT_BYTES
    };
    let Some(length) = declared.filter(|n| *n > limit as u64) else {
        return next.run(request).await;
    };
    if length <= DRAIN_MAX {
        let mut body = request.into_body().into_data_stream();
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Some(Ok(_)) = body.next().await {}
        })
        .await;
    }
    let refusal = if import {
        super::import::too_large()
    } else {
        too_large()
    };
    let mut response = refusal.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
