//! `/api/v1/openapi.json`, generated from the handlers and the wire types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::{admin, end_user, maintenance};

#[derive(OpenApi)]
#[openapi(
    info(title = "curfewd", description = "The Curfew session authority: users, sessions, forced logouts."),
    paths(end_user::login, end_user::session, end_user::logout, end_user::notices,
          end_user::notice_stream, admin::me, admin::list_users, admin::session_summary,
          admin::logout_user, admin::logout_all, admin::deactivate, admin::activate, admin::audit, admin::sign_in_throttles, admin::clear_sign_in_throttle,
          maintenance::create, maintenance::list, maintenance::cancel, maintenance::end, maintenance::events),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
