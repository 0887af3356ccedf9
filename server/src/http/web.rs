//! The small page curfewd serves at `/` for the organisation's web users. Its files are
//! built into the binary and served with a strict CSP.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The page's address never leaves for another site.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

pub async fn index() -> Response {
    asset(
        include_str!("../../web/index.html"),
        "text/html; charset=utf-8",
    )
}

pub async fn script() -> Response {
    asset(
        include_str!("../../web/page.js"),
        "text/javascript; charset=utf-8",
    )
}

pub async fn style() -> Response {
    asset(
        include_str!("../../web/style.css"),
        "text/css; charset=utf-8",
    )
}
