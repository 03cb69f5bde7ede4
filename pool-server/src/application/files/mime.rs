//! The `Content-Type` of a file, guessed from its extension.

use std::path::Path;

use http::HeaderValue;

/// The media type for `path`'s extension (`application/octet-stream` when
/// unknown). Text types get `; charset=utf-8`: without a charset a browser
/// guesses one, and UTF-8 is what files written today hold.
pub(crate) fn content_type(path: &Path) -> HeaderValue {
    let guess = mime_guess::from_path(path).first_or_octet_stream();
    let essence = guess.essence_str();
    let text = guess.type_() == mime_guess::mime::TEXT || essence == "application/javascript";
    let value = if text && guess.get_param("charset").is_none() {
        format!("{essence}; charset=utf-8")
    } else {
        guess.to_string()
    };
    HeaderValue::try_from(value)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_extension_and_text_is_utf_8() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("style.CSS", "text/css; charset=utf-8"),
            ("notes.txt", "text/plain; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("data.json", "application/json"),
            ("logo.png", "image/png"),
            ("archive.tar.gz", "application/gzip"),
            ("no-extension", "application/octet-stream"),
            ("weird.zzzz", "application/octet-stream"),
        ];
        for (name, expected) in cases {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
    }
}
