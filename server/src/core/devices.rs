//! A session's device in words, from what its client sent: the organisation's app may
//! name the device at sign-in ("Maria's iPhone"); otherwise the `User-Agent` is turned
//! into "Firefox 132 on Windows 10" with `woothee` (its rules are built in: no data file
//! to ship or update at run time). What cannot be recognised shows the agent's first
//! product ("okhttp 4.12"), never the raw header.
//!
//! Invariant: whatever a client sends, the words are plain, short text: no control
//! characters, at most [`WORDS_MAX`] characters.

use curfew::api::ClientKind;

/// The longest description shown.
pub const WORDS_MAX: usize = 120;
/// The most of a `User-Agent` header kept with a session.
pub const USER_AGENT_MAX: usize = 512;

/// Keeps a header or name as plain text, bounded: control characters dropped.
pub fn plain(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// "Firefox 132 on Windows 10", or the device's own name with it in brackets.
pub fn describe(device_name: Option<&str>, user_agent: Option<&str>, client: ClientKind) -> String {
    let agent = user_agent.map(agent_words).filter(|w| !w.is_empty());
    let words = match (device_name.filter(|n| !n.is_empty()), agent) {
        (Some(name), Some(agent)) => format!("{name} ({agent})"),
        (Some(name), None) => name.to_owned(),
        (None, Some(agent)) => agent,
        (None, None) => match client {
            ClientKind::App => "The organisation's app, unknown device".to_owned(),
            ClientKind::Web => "A web browser, unknown".to_owned(),
        },
    };
    plain(&words, WORDS_MAX)
}

fn agent_words(agent: &str) -> String {
    let parser = woothee::parser::Parser::new();
    if let Some(found) = parser.parse(agent).filter(|r| r.name != "UNKNOWN") {
        let major = found.version.split('.').next().unwrap_or("");
        let browser = if major.is_empty() || major == "UNKNOWN" {
            found.name.to_owned()
        } else {
            format!("{} {major}", found.name)
        };
        let major_of = |v: &str| v.split(['.', '_']).next().unwrap_or(v).to_owned();
        let os = match (found.os, found.os_version.as_ref()) {
            ("UNKNOWN", _) => None,
            // woothee names Windows by its version already ("Windows 10", version "NT 10.0").
            (os, _) if os.starts_with("Windows") => Some(os.to_owned()),
            ("iPhone" | "iPad" | "iPod", version) if version != "UNKNOWN" => {
                Some(format!("iOS {}", major_of(version)))
            }
            ("Mac OSX", version) if version != "UNKNOWN" => {
                let parts: Vec<&str> = version.split(['.', '_']).take(2).collect();
                Some(format!("macOS {}", parts.join(".")))
            }
            ("Mac OSX", _) => Some("macOS".to_owned()),
            (os, "UNKNOWN" | "") => Some(os.to_owned()),
            (os, version) => Some(format!("{os} {}", major_of(version))),
        };
        return match os {
            Some(os) => format!("{browser} on {os}"),
            None => browser,
        };
    }
    // The first product token: "okhttp/4.12.0 (Linux)" -> "okhttp 4.12".
    let product = agent.split_whitespace().next().unwrap_or("");
    match product.split_once('/') {
        Some((name, version)) => {
            let version: Vec<&str> = version.split('.').take(2).collect();
            plain(&format!("{name} {}", version.join(".")), 40)
        }
        None => plain(product, 40),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_become_words() {
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0";
        assert_eq!(
            describe(None, Some(firefox), ClientKind::Web),
            "Firefox 132 on Windows 10"
        );
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(
            describe(None, Some(chrome), ClientKind::Web),
            "Chrome 131 on Linux"
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(
            describe(Some("Maria's iPhone"), Some(iphone), ClientKind::App),
            "Maria's iPhone (Safari 17 on iOS 17)"
        );
        assert_eq!(
            describe(None, Some("okhttp/4.12.0"), ClientKind::App),
            "okhttp 4.12"
        );
        assert_eq!(
            describe(None, None, ClientKind::App),
            "The organisation's app, unknown device"
        );
    }

    #[test]
    fn whatever_is_sent_stays_short_plain_text() {
        let hostile = format!("Evil\n\u{1b}[31m/{}", "9".repeat(5000));
        let words = describe(Some(&"x\u{0}".repeat(500)), Some(&hostile), ClientKind::Web);
        assert!(words.chars().count() <= WORDS_MAX, "{words}");
        assert!(!words.chars().any(char::is_control), "{words:?}");
    }
}
