//! How the gate is set up: the hosts it serves, the organisation's name, a cookie domain.
//! Read once from the command line; nothing here changes while curfewd runs.

/// How the gate is set up, from the command line.
#[derive(Debug, Clone, Default)]
pub struct GateConfig {
    /// Hosts (`name` or `name:port`, as the browser writes them) the gate serves; empty:
    /// the gate is off.
    pub hosts: Vec<String>,
    /// The organisation's name, on the sign-in and maintenance pages.
    pub brand_name: String,
    /// One cookie for several subdomains (then `__Secure-`, not `__Host-`).
    pub cookie_domain: Option<String>,
}
