//! The `curfew` binary against real curfewd processes (`CURFEWD_BIN`, as `cargo xtask
//! test` sets it), through its command line only: exit codes, `--json` parsed, the
//! refusal without `--yes`, and the token in the real Secret Service. One test binary.

mod support;

mod commands;
mod keychain;
mod service_tokens;
mod sessions;
mod usage;
