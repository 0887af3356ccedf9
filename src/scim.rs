//! SCIM 2.0 (RFC 7643, RFC 7644) as curfewd speaks it to Okta and Microsoft Entra: the
//! paths under [`PREFIX`], the schema URNs, the media type. Written once; the server's
//! routes and the README name these.

/// Every SCIM path starts here (the base URL to give the identity provider, with the
/// server's address in front).
pub const PREFIX: &str = "/scim/v2";

pub const SERVICE_PROVIDER_CONFIG: &str = "/scim/v2/ServiceProviderConfig";
pub const RESOURCE_TYPES: &str = "/scim/v2/ResourceTypes";
pub const SCHEMAS: &str = "/scim/v2/Schemas";
pub const USERS: &str = "/scim/v2/Users";
pub const USER: &str = "/scim/v2/Users/{id}";

/// SCIM's media type (RFC 7644 §8.1); `application/json` is accepted too.
pub const MEDIA_TYPE: &str = "application/scim+json";

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// Most resources one list answer holds (`count` above it is lowered to it).
pub const MAX_RESULTS: usize = 200;
/// Operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 100;
