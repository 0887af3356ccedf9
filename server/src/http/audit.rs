//! The audit's export: every entry a filter matches, in one streamed file. Like the
//! audit's pages it needs `force_logout` (or a service token's `read` scope); the
//! filter's rules and the paging are in [`crate::core::audit`].

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use curfew::api::{AuditExportQuery, ErrorBody};
use curfew::routes;

use super::extract::{ApiQuery, ForceLogout};
use crate::core::{AppResult, AppState};

/// Every entry the filter matches, newest first, as CSV (with a header row) or JSON
/// Lines, streamed; saved under the name the `Content-Disposition` header gives.
#[utoipa::path(get, path = routes::AUDIT_EXPORT.path, context_path = routes::API_PREFIX, tag = "administrators",
    params(AuditExportQuery),
    responses((status = 200, description = "the entries, newest first: `text/csv` with the header row `at,actor,actor_kind,action,action_label,target,sessions_revoked,users_affected,keep_admins,client,address,reason,window_id,window_starts_at,id,actor_id,target_user_id`, or `application/jsonl` with one audit entry (as `GET /admin/audit` gives them) per line",
                  content((String = "text/csv"), (String = "application/jsonl"))),
              (status = 400, body = ErrorBody, description = "invalid_query: an unknown format, action or category, a name that is not a username, or a date that is not RFC 3339"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    ForceLogout(_caller): ForceLogout,
    ApiQuery(query): ApiQuery<AuditExportQuery>,
) -> AppResult<Response> {
    let chunks = state.audit_export(&query)?;
    let extension = query.format.extension();
    let name = format!(
        "curfew-audit-{}.{extension}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (header::CONTENT_TYPE, query.format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}
