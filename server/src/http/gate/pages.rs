//! The gate's pages, rendered on the server: sign-in, maintenance, and refusals. No
//! script runs in them; every piece of text that comes from a user, the request or an
//! administrator is HTML-escaped here, and nowhere else is HTML written.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use curfew::gate;

use crate::core::gate::MaintenanceNow;

/// The pages load nothing but the gate's style sheet and post only to the gate.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                        form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title` and `body` (already HTML) under the organisation's name.
fn page(status: StatusCode, brand: &str, title: &str, body: &str) -> Response {
    page_with_head(status, brand, title, body, "")
}

/// A whole page with more in its `<head>` (already HTML).
fn page_with_head(
    status: StatusCode,
    brand: &str,
    title: &str,
    body: &str,
    head: &str,
) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{title} · {brand}</title>\n<link rel=\"stylesheet\" href=\"{style}\">\n\
         {head}</head>\n<body>\n<main>\n<section class=\"card\">\n\
         <p class=\"brand\">{brand}</p>\n<h1>{title}</h1>\n{body}\n</section>\n</main>\n\
         </body>\n</html>\n",
        title = escape(title),
        brand = escape(brand),
        style = gate::STYLE,
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// What the sign-in page shows besides the form.
#[derive(Default)]
pub struct SignInPage<'a> {
    /// Where to go back to (already checked).
    pub return_to: &'a str,
    pub username: &'a str,
    /// A refusal of the last attempt.
    pub error: Option<&'a str>,
    /// Something to know first (signed out, maintenance).
    pub notice: Option<String>,
    /// (name, display name) of each identity provider: a button each.
    pub providers: Vec<(String, String)>,
    /// Whether the password form shows.
    pub password: bool,
}

pub fn sign_in(status: StatusCode, brand: &str, form: &SignInPage<'_>) -> Response {
    let notice = form
        .notice
        .as_deref()
        .map(|n| format!("<p class=\"notice\" role=\"status\">{}</p>\n", escape(n)))
        .unwrap_or_default();
    let error = form
        .error
        .map(|e| {
            format!(
                "<p class=\"error\" id=\"sign-in-error\" role=\"alert\">{}</p>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    let autofocus = |field: &str| {
        let wants = if form.username.is_empty() {
            "username"
        } else {
            "password"
        };
        if wants == field {
            " autofocus"
        } else {
            ""
        }
    };
    let rd = url::form_urlencoded::byte_serialize(form.return_to.as_bytes()).collect::<String>();
    let buttons: String = form
        .providers
        .iter()
        .map(|(name, display)| {
            format!(
                "<a class=\"provider button\" data-provider=\"{name}\" href=\"{path}?{param}={rd}\">Sign in with {display}</a>\n",
                name = escape(name),
                path = escape(&gate::for_provider(gate::OIDC_START, name)),
                param = gate::RETURN_TO,
                display = escape(display),
            )
        })
        .collect();
    let providers = if buttons.is_empty() {
        String::new()
    } else {
        format!("<div class=\"providers\">\n{buttons}</div>\n")
    };
    let separator = if !buttons.is_empty() && form.password {
        "<p class=\"or\">or with your Curfew password</p>\n"
    } else {
        ""
    };
    let password_form = if form.password {
        format!(
            "<form method=\"post\" action=\"{action}\">\n\
             <input type=\"hidden\" name=\"{rd_name}\" value=\"{return_to}\">\n\
             <label for=\"username\">Username</label>\n\
             <input id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" \
             autocapitalize=\"off\" spellcheck=\"false\" required{focus_user}>\n\
             <label for=\"password\">Password</label>\n\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" \
             required{focus_password}>\n\
             <button type=\"submit\">Sign in</button>\n</form>",
            action = gate::SIGN_IN,
            rd_name = gate::RETURN_TO,
            return_to = escape(form.return_to),
            username = escape(form.username),
            focus_user = autofocus("username"),
            focus_password = autofocus("password"),
        )
    } else {
        String::new()
    };
    let body = format!("{notice}{error}{providers}{separator}{password_form}");
    page(status, brand, "Sign in", &body)
}

/// 503 with `Retry-After`: the app is closed for maintenance.
pub fn maintenance(brand: &str, now: &MaintenanceNow) -> Response {
    let until = match now.ends_at {
        Some(ends_at) => format!(
            "It is expected to end at {} UTC.",
            chrono::DateTime::from_timestamp_millis(ends_at)
                .unwrap_or_default()
                .format("%H:%M on %-d %B")
        ),
        None => "An administrator will end it; try again in a few minutes.".to_owned(),
    };
    let body = format!(
        "<p class=\"notice\" role=\"status\">{message}</p>\n<p>{until} Administrators can still \
         sign in.</p>\n<p><a href=\"/\">Try again</a></p>",
        message = escape(&now.message),
        until = escape(&until),
    );
    let mut response = page(
        StatusCode::SERVICE_UNAVAILABLE,
        brand,
        "Down for maintenance",
        &body,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(now.retry_after));
    response
}

/// Signed out here; on to the provider to sign out there too. A page that moves on by
/// itself (a redirect answering a form would be refused by an app whose CSP has
/// `form-action 'self'`), with a link for a browser that does not.
pub fn signed_out_going_to(brand: &str, provider: &str, url: &str) -> Response {
    let url = escape(url);
    let body = format!(
        "<p class=\"notice\" role=\"status\">You signed out. Signing you out at {provider} too…</p>\n\
         <p><a id=\"continue\" href=\"{url}\">Continue to {provider}</a></p>",
        provider = escape(provider)
    );
    let head = format!("<meta http-equiv=\"refresh\" content=\"0;url={url}\">\n");
    page_with_head(StatusCode::OK, brand, "Signing out", &body, &head)
}

/// No maintenance now: the page says so and leads back.
pub fn no_maintenance(brand: &str) -> Response {
    page(
        StatusCode::OK,
        brand,
        "No maintenance now",
        "<p>The app is open. <a href=\"/\">Go back to it</a>.</p>",
    )
}

/// A refusal as a page: what happened and what to do next, once.
pub fn refusal(status: StatusCode, brand: &str, title: &str, message: &str) -> Response {
    let body = format!(
        "<p class=\"error\" role=\"alert\">{}</p>\n<p><a href=\"{}\">Go to the sign-in page</a></p>",
        escape(message),
        gate::SIGN_IN
    );
    page(status, brand, title, &body)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
