//! SCIM filters (RFC 7644 §3.4.2.2), the part identity providers send when they look a
//! user up: equalities on `userName`, `externalId`, `emails.value` (or
//! `emails[type eq "work"].value`), `active` and `id`, joined by `and`, with parentheses.
//! Each becomes a condition of one SQL query, so a lookup stays one indexed read however
//! many users there are. Anything else (`or`, `co`, other attributes) is refused with
//! `invalidFilter` and a sentence naming what is supported, never silently widened.
//!
//! Why not a crate: the one on the registry (`scim-filter`) evaluates a filter over a
//! collection already in memory, which would mean loading every user per lookup.

use curfew::scim::USER_SCHEMA;
use uuid::Uuid;

use crate::store::scim::ScimQuery;

/// Why a filter was refused: the `detail` of a 400 `invalidFilter`.
#[derive(Debug, PartialEq, Eq)]
pub struct FilterError(pub String);

const SUPPORTED: &str = "Supported: userName, externalId, emails.value, active and id with \
                         eq, joined by and (parentheses allowed).";

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

fn tokens(filter: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '"' => {
                // A JSON string: read it whole, escapes included, then let serde decode it.
                let mut raw = String::from('"');
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    raw.push(c);
                    if c == '\\' {
                        if let Some(next) = chars.next() {
                            raw.push(next);
                        }
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(FilterError(format!(
                        "The filter has a string that never ends: {raw}"
                    )));
                }
                let text: String = serde_json::from_str(&raw)
                    .map_err(|_| FilterError(format!("The filter's string {raw} is not valid.")))?;
                out.push(Token::Text(text));
            }
            _ => {
                let mut word = String::new();
                let mut depth = 0;
                while let Some(&c) = chars.peek() {
                    // `emails[type eq "work"].value` is one attribute path.
                    if depth == 0 && (c.is_whitespace() || c == '(' || c == ')') {
                        break;
                    }
                    match c {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        _ => {}
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

/// Parses `filter` into the query it asks for.
pub fn parse(filter: &str) -> Result<ScimQuery, FilterError> {
    let tokens = tokens(filter)?;
    if tokens.is_empty() {
        return Err(FilterError(format!("The filter is empty. {SUPPORTED}")));
    }
    let mut query = ScimQuery::default();
    let mut at = 0;
    conjunction(&tokens, &mut at, &mut query, 0)?;
    if at != tokens.len() {
        return Err(FilterError(format!(
            "The filter has something after its end, at {:?}. {SUPPORTED}",
            tokens[at]
        )));
    }
    Ok(query)
}

fn conjunction(
    tokens: &[Token],
    at: &mut usize,
    query: &mut ScimQuery,
    depth: usize,
) -> Result<(), FilterError> {
    loop {
        term(tokens, at, query, depth)?;
        match tokens.get(*at) {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => *at += 1,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("or") => {
                return Err(FilterError(format!("`or` is not supported. {SUPPORTED}")))
            }
            _ => return Ok(()),
        }
    }
}

fn term(
    tokens: &[Token],
    at: &mut usize,
    query: &mut ScimQuery,
    depth: usize,
) -> Result<(), FilterError> {
    match tokens.get(*at) {
        Some(Token::Open) if depth < 8 => {
            *at += 1;
            conjunction(tokens, at, query, depth + 1)?;
            if tokens.get(*at) != Some(&Token::Close) {
                return Err(FilterError("The filter has a ( without its ).".into()));
            }
            *at += 1;
            Ok(())
        }
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => {
            Err(FilterError(format!("`not` is not supported. {SUPPORTED}")))
        }
        Some(Token::Word(path)) => {
            let (Some(Token::Word(op)), Some(value)) = (tokens.get(*at + 1), tokens.get(*at + 2))
            else {
                return Err(FilterError(format!(
                    "The filter's comparison on {path} is incomplete: it needs an operator \
                     and a value. {SUPPORTED}"
                )));
            };
            if !op.eq_ignore_ascii_case("eq") {
                return Err(FilterError(format!(
                    "The operator {op} is not supported. {SUPPORTED}"
                )));
            }
            *at += 3;
            equality(path, value, query)
        }
        _ => Err(FilterError(format!(
            "The filter does not start a comparison where it should. {SUPPORTED}"
        ))),
    }
}

/// Records `path eq value`; two different values for one attribute match nothing.
fn equality(path: &str, value: &Token, query: &mut ScimQuery) -> Result<(), FilterError> {
    let name = path
        .strip_prefix(USER_SCHEMA)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(path)
        .to_ascii_lowercase();
    let text = |value: &Token| match value {
        Token::Text(text) => Ok(text.clone()),
        _ => Err(FilterError(format!(
            "{path} is compared with a string in quotes. {SUPPORTED}"
        ))),
    };
    fn set<T: PartialEq>(slot: &mut Option<T>, value: T, nothing: &mut bool) {
        match slot {
            Some(existing) if *existing != value => *nothing = true,
            _ => *slot = Some(value),
        }
    }
    match name.as_str() {
        "username" => set(&mut query.username, text(value)?, &mut query.nothing),
        "externalid" => set(&mut query.external_id, text(value)?, &mut query.nothing),
        "emails.value" | "emails" | "emails[type eq \"work\"].value" => {
            set(&mut query.email, text(value)?, &mut query.nothing)
        }
        "id" => match Uuid::parse_str(&text(value)?) {
            Ok(id) => set(&mut query.id, id, &mut query.nothing),
            // Not one of our ids: nothing has it.
            Err(_) => query.nothing = true,
        },
        "active" => {
            let active = match value {
                Token::Word(w) if w.eq_ignore_ascii_case("true") => true,
                Token::Word(w) if w.eq_ignore_ascii_case("false") => false,
                Token::Text(t) if t.eq_ignore_ascii_case("true") => true,
                Token::Text(t) if t.eq_ignore_ascii_case("false") => false,
                _ => {
                    return Err(FilterError(format!(
                        "active is compared with true or false. {SUPPORTED}"
                    )))
                }
            };
            set(&mut query.active, active, &mut query.nothing)
        }
        _ => {
            return Err(FilterError(format!(
                "The attribute {path} cannot be filtered on. {SUPPORTED}"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookups_okta_and_entra_send() {
        let q = parse(r#"userName eq "maria@example.org""#).unwrap();
        assert_eq!(q.username.as_deref(), Some("maria@example.org"));
        let q = parse(r#"externalId eq "00u1ab" and active eq true"#).unwrap();
        assert_eq!(q.external_id.as_deref(), Some("00u1ab"));
        assert_eq!(q.active, Some(true));
        let q =
            parse(r#"(emails[type eq "work"].value eq "A@B.org") AND userName EQ "a""#).unwrap();
        assert_eq!(q.email.as_deref(), Some("A@B.org"));
        assert_eq!(q.username.as_deref(), Some("a"));
        let q =
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x \"y\"""#).unwrap();
        assert_eq!(q.username.as_deref(), Some("x \"y\""));
        let q = parse(r#"active eq "False""#).unwrap();
        assert_eq!(q.active, Some(false));
    }

    #[test]
    fn contradictions_match_nothing() {
        assert!(
            parse(r#"userName eq "a" and userName eq "b""#)
                .unwrap()
                .nothing
        );
        assert!(parse(r#"id eq "not-a-uuid""#).unwrap().nothing);
        assert!(
            !parse(r#"userName eq "a" and userName eq "a""#)
                .unwrap()
                .nothing
        );
    }

    #[test]
    fn what_is_not_supported_is_refused_with_a_reason() {
        for (filter, says) in [
            (r#"userName eq "a" or userName eq "b""#, "`or`"),
            (r#"userName co "a""#, "operator co"),
            (r#"title eq "x""#, "attribute title"),
            (r#"userName eq"#, "incomplete"),
            (r#"userName eq "a"#, "never ends"),
            (r#"(userName eq "a""#, "without its )"),
            (r#"userName eq a"#, "string in quotes"),
            ("", "empty"),
            (r#"userName eq "a" )"#, "after its end"),
        ] {
            let FilterError(detail) = parse(filter).unwrap_err();
            assert!(detail.contains(says), "{filter}: {detail}");
        }
    }
}
