//! Parses and validates the `"METHOD /path"` string of `#[route]`.
//!
//! Pure: it works on a [`LitStr`] and returns a [`RouteSpec`] or a
//! `syn::Error` spanned on the literal, so every rule has a unit test below
//! and a trybuild test in `tests/ui/fail`.

use syn::LitStr;

/// The methods `#[route]` accepts, in the order error messages list them.
/// Not `CONNECT`: see [`check_method`].
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

/// A validated route string.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RouteSpec {
    /// One of [`METHODS`].
    pub(crate) method: String,
    /// The path as written (escapes and all), for messages.
    pub(crate) path: String,
    /// The segments between slashes, after the leading one.
    pub(crate) segments: Vec<Segment>,
}

/// One segment of a path pattern.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text matched as is (braces already unescaped). May be empty only as
    /// the last segment (`/` or a trailing slash).
    Static(String),
    /// `{name}`: one non-empty segment.
    Param(String),
    /// `{*name}`: the rest of the path, at least one byte; always last.
    Wildcard(String),
}

impl RouteSpec {
    /// The names of the parameters, in path order (the order in which the
    /// router hands their values to the handler).
    pub(crate) fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Param(name) | Segment::Wildcard(name) => Some(name.as_str()),
            Segment::Static(_) => None,
        })
    }
}

/// Parses `"METHOD /path"`.
pub(crate) fn parse(lit: &LitStr) -> syn::Result<RouteSpec> {
    let value = lit.value();
    parse_str(&value).map_err(|message| syn::Error::new_spanned(lit, message))
}

/// [`parse`] without the span, so tests (and the fuzz target in `fuzz/`,
/// which includes this file by path) can call it with plain strings.
pub(crate) fn parse_str(value: &str) -> Result<RouteSpec, String> {
    let Some((method, path)) = value.split_once(' ') else {
        return Err(if value.starts_with('/') {
            format!("missing method: write `GET {value}` (or another method) before the path")
        } else {
            "expected a method and a path separated by a space, such as `\"GET /users/{id}\"`"
                .to_owned()
        });
    };
    let method = check_method(method)?;
    let path = path.trim_start_matches(' ');
    let segments = parse_path(path)?;
    Ok(RouteSpec {
        method: method.to_owned(),
        path: path.to_owned(),
        segments,
    })
}

fn check_method(method: &str) -> Result<&str, String> {
    if METHODS.contains(&method) {
        return Ok(method);
    }
    let upper = method.to_ascii_uppercase();
    // CONNECT targets `host:port`, not a path, and a 2xx answer turns the
    // connection into a tunnel (RFC 9110 §9.3.6), which the server does not
    // provide; it answers every CONNECT itself.
    if upper == "CONNECT" {
        return Err(
            "`CONNECT` cannot be routed: it asks for a tunnel to `host:port`, which pool-server does not provide (it answers CONNECT with 501 Not Implemented)"
                .to_owned(),
        );
    }
    if METHODS.contains(&upper.as_str()) {
        return Err(format!(
            "methods are uppercase: write `{upper}` instead of `{method}`"
        ));
    }
    Err(format!(
        "unknown method `{method}`; expected one of {}",
        METHODS.join(", ")
    ))
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("paths must start with `/`: write `/{path}`"));
    };
    if let Some(bad) = path
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '?' | '#'))
    {
        return Err(match bad {
            '?' => "paths cannot contain a query (`?`); read the query string with the `Query<T>` extractor".to_owned(),
            '#' => "paths cannot contain a fragment (`#`); clients never send it".to_owned(),
            ' ' => "paths cannot contain spaces; percent-encode them as `%20`".to_owned(),
            c => format!(
                "paths cannot contain `{}`; percent-encode it (the router matches the path as sent)",
                c.escape_default()
            ),
        });
    }

    let raw: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(raw.len());
    let mut names: Vec<String> = Vec::new();
    for (i, text) in raw.iter().enumerate() {
        let last = i + 1 == raw.len();
        if text.is_empty() && !last {
            return Err("empty segment (`//`) in path; remove the extra slash".to_owned());
        }
        let segment = parse_segment(text)?;
        match &segment {
            Segment::Wildcard(name) if !last => {
                return Err(format!(
                    "the wildcard `{{*{name}}}` must be the last segment of the path"
                ));
            }
            Segment::Param(name) | Segment::Wildcard(name) => {
                if names.contains(name) {
                    return Err(format!(
                        "duplicate parameter `{name}`; give each parameter its own name"
                    ));
                }
                names.push(name.clone());
            }
            Segment::Static(_) => {}
        }
        segments.push(segment);
    }
    Ok(segments)
}

/// One segment: `{name}`, `{*name}`, or text where `{{` and `}}` stand for
/// literal braces.
fn parse_segment(text: &str) -> Result<Segment, String> {
    let mut literal = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err("unmatched `}` in path; write `}}` for a literal brace".to_owned());
            }
            '{' => {
                let Some(len) = text[start..].find('}') else {
                    return Err(format!(
                        "unclosed `{}` in path; close the parameter with `}}`, or write `{{{{` for a literal brace",
                        &text[start..]
                    ));
                };
                let capture = &text[start + 1..start + len];
                if start != 0 || start + len + 1 != text.len() {
                    return Err(format!(
                        "a parameter must be a whole segment: write `/{{{capture}}}`, not `/{text}`"
                    ));
                }
                return capture_segment(capture);
            }
            c => literal.push(c),
        }
    }
    Ok(Segment::Static(literal))
}

fn capture_segment(capture: &str) -> Result<Segment, String> {
    let (wildcard, name) = match capture.strip_prefix('*') {
        Some(name) => (true, name),
        None => (false, capture),
    };
    if name.is_empty() {
        return Err(if wildcard {
            "empty wildcard `{*}`; name it, as in `{*rest}`".to_owned()
        } else {
            "empty parameter `{}`; name it after a function argument, as in `{id}`".to_owned()
        });
    }
    let mut chars = name.chars();
    let is_ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_";
    if !is_ident {
        return Err(format!(
            "parameter name `{name}` is not an identifier; name it after a function argument, as in `{{user_id}}`"
        ));
    }
    Ok(if wildcard {
        Segment::Wildcard(name.to_owned())
    } else {
        Segment::Param(name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(s: &str) -> Segment {
        Segment::Static(s.to_owned())
    }
    fn param(s: &str) -> Segment {
        Segment::Param(s.to_owned())
    }
    fn wild(s: &str) -> Segment {
        Segment::Wildcard(s.to_owned())
    }

    #[test]
    fn valid_routes_parse_into_segments() {
        let cases: &[(&str, &str, Vec<Segment>)] = &[
            ("GET /", "GET", vec![stat("")]),
            ("POST /echo", "POST", vec![stat("echo")]),
            ("GET /users/", "GET", vec![stat("users"), stat("")]),
            ("GET /users/{id}", "GET", vec![stat("users"), param("id")]),
            (
                "DELETE /a/{x}/b/{y_2}",
                "DELETE",
                vec![stat("a"), param("x"), stat("b"), param("y_2")],
            ),
            (
                "GET /files/{*path}",
                "GET",
                vec![stat("files"), wild("path")],
            ),
            ("GET /{*all}", "GET", vec![wild("all")]),
            ("GET /{{x}}", "GET", vec![stat("{x}")]),
            ("GET /caf%C3%A9", "GET", vec![stat("caf%C3%A9")]),
            ("OPTIONS /x", "OPTIONS", vec![stat("x")]),
        ];
        for (input, method, segments) in cases {
            let spec = parse_str(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(&spec.method, method, "{input}");
            assert_eq!(&spec.segments, segments, "{input}");
        }
    }

    #[test]
    fn invalid_routes_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("/users", "missing method"),
            ("GET", "expected a method and a path"),
            ("GTE /", "unknown method `GTE`"),
            ("get /", "methods are uppercase: write `GET`"),
            ("CONNECT /", "`CONNECT` cannot be routed"),
            ("connect /", "`CONNECT` cannot be routed"),
            ("GET users", "paths must start with `/`"),
            ("GET /a b", "spaces"),
            ("GET /a?b=1", "query"),
            ("GET /a#b", "fragment"),
            ("GET /café", "percent-encode"),
            ("GET /a//b", "empty segment"),
            ("GET /{}", "empty parameter `{}`"),
            ("GET /{*}", "empty wildcard `{*}`"),
            ("GET /{id", "unclosed `{id`"),
            ("GET /{id/x}", "unclosed `{id`"),
            ("GET /id}", "unmatched `}`"),
            ("GET /u/{id}/{id}", "duplicate parameter `id`"),
            ("GET /u/{id}/{*id}", "duplicate parameter `id`"),
            (
                "GET /{*rest}/x",
                "the wildcard `{*rest}` must be the last segment",
            ),
            ("GET /user-{id}", "a parameter must be a whole segment"),
            ("GET /{id}.json", "a parameter must be a whole segment"),
            ("GET /{1d}", "parameter name `1d` is not an identifier"),
            ("GET /{_}", "parameter name `_` is not an identifier"),
        ];
        for (input, expected) in cases {
            match parse_str(input) {
                Ok(spec) => panic!("{input} parsed as {spec:?}"),
                Err(message) => assert!(
                    message.contains(expected),
                    "{input}: {message:?} does not contain {expected:?}"
                ),
            }
        }
    }

    #[test]
    fn params_come_in_path_order() {
        let spec = parse_str("GET /a/{x}/b/{y}/{*z}").unwrap();
        assert_eq!(spec.params().collect::<Vec<_>>(), ["x", "y", "z"]);
    }
}
