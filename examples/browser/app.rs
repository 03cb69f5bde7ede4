//! The two servers of the `browser` example, shared with `tests/browser.rs`
//! (which includes this file with `#[path]`), so that the test drives the
//! very app the example runs.
//!
//! - The **API** keeps a counter in each visitor's session (an encrypted
//!   cookie) and lets one page origin call it with credentials.
//! - The **page server**, on another port and so another origin, serves
//!   the dashboard whose script calls the API.

use std::sync::{Arc, OnceLock};

use pool_server::cookies::Key;
use pool_server::cors::Cors;
use pool_server::request_id::RequestId;
use pool_server::security_headers::SecurityHeaders;
use pool_server::sessions::{Session, Sessions};
use pool_server::{route, routes, Builder, Method, Response, State, StatusCode};

/// The response headers the page may read beside the safelisted ones; the
/// dashboard shows them, to tell what reached the browser.
pub(crate) const EXPOSED: [&str; 4] = [
    "x-request-id",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
];

/// The API: `POST /count` counts a visit in the session and answers the
/// count, `GET /count` reads it, `DELETE /count` sets it back to 0.
///
/// Only `page_origin` (`http://127.0.0.1:7878`) may call it from a
/// browser, with cookies, and only with `GET` and `POST`: a page's
/// `DELETE` is refused by the browser after the preflight, though any
/// other client (curl) can send one.
pub(crate) fn api(builder: Builder, page_origin: &str) -> Builder {
    let cors = Cors::new()
        .allow_origins([page_origin])
        .allow_methods([Method::GET, Method::POST])
        .allow_credentials(true)
        .expose_headers(EXPOSED);
    builder
        // Outermost, so that every answer has an id, preflights too.
        .wrap(RequestId::new())
        .wrap(SecurityHeaders::new())
        // Outside the sessions, as a login check would be: a preflight
        // carries no cookie and is answered here.
        .wrap(cors)
        // A new key at each start: sessions end with the process. Load 64
        // secret bytes with `Key::try_from` to keep them across restarts.
        .wrap(Sessions::new(Key::generate()))
        .routes(routes![read_count, count, reset])
}

/// The dashboard's page server. Its page calls the API at the origin set
/// in `api_origin`, which may be set after this server is built (the API
/// needs the page's origin first), and must be before a page is asked for.
pub(crate) fn pages(builder: Builder, api_origin: Arc<ApiOrigin>) -> Builder {
    builder
        .wrap(SecurityHeaders::new())
        .shared_state(api_origin)
        .routes(routes![index])
}

/// The API's origin, such as `http://127.0.0.1:7879`, once known.
#[derive(Debug, Default)]
pub(crate) struct ApiOrigin(OnceLock<String>);

impl ApiOrigin {
    /// Sets the origin; later calls change nothing.
    pub(crate) fn set(&self, origin: String) {
        let _ = self.0.set(origin);
    }

    fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// The session's count, 0 in a new session.
fn visits(session: &Session) -> u64 {
    session.get("visits").unwrap_or(0)
}

#[route("GET /count")]
fn read_count(session: Session) -> String {
    visits(&session).to_string()
}

#[route("POST /count")]
fn count(session: Session) -> String {
    let visits = visits(&session) + 1;
    session
        .insert("visits", visits)
        .expect("a number serializes");
    visits.to_string()
}

#[route("DELETE /count")]
fn reset(session: Session) -> String {
    session.insert("visits", 0).expect("a number serializes");
    "0".to_owned()
}

#[route("GET /")]
fn index(api: State<ApiOrigin>) -> Response {
    match api.get() {
        Some(origin) => {
            let exposed = format!("{EXPOSED:?}"); // a JavaScript array of strings
            Response::html(PAGE.replace("{API}", origin).replace("{EXPOSED}", &exposed))
        }
        None => {
            Response::text("the API is not up yet\n").with_status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// The dashboard. Its script counts the visit with a credentialed
/// cross-origin `POST`, then tries a `DELETE` that the API's CORS policy
/// does not allow, and writes both outcomes into the page. `#status` says
/// `done` when both have settled.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>pool-server dashboard</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 3em; max-width: 46em; }
    #count { font-size: 4em; font-variant-numeric: tabular-nums; display: block; }
    .refused { color: #b00; }
    .ok { color: #070; }
    code, dd { font-family: ui-monospace, monospace; }
    dt { font-weight: bold; }
    #status { color: #777; }
  </style>
</head>
<body>
  <h1>Dashboard</h1>
  <p>Visits in this session (<code>POST {API}/count</code>, with the session cookie):</p>
  <output id="count">…</output>
  <p>Reset (<code>DELETE {API}/count</code>, a method the API's CORS policy does not allow):
     <strong id="reset">…</strong></p>
  <h2>What the browser saw of the count's answer</h2>
  <dl id="headers"></dl>
  <p id="status">running…</p>
  <script>
    const api = "{API}";
    const $ = (id) => document.getElementById(id);

    async function countVisit() {
      try {
        // Cross-origin, with cookies: the browser sends the session cookie
        // and stores the new one only because the API answers with this
        // page's origin and Access-Control-Allow-Credentials: true.
        const res = await fetch(api + "/count", { method: "POST", credentials: "include" });
        if (!res.ok) throw new Error("HTTP " + res.status);
        $("count").textContent = await res.text();
        $("count").className = "ok";
        for (const name of {EXPOSED}) {
          const dt = document.createElement("dt");
          dt.textContent = name;
          const dd = document.createElement("dd");
          dd.id = "header-" + name;
          dd.textContent = res.headers.get(name) ?? "(not readable)";
          $("headers").append(dt, dd);
        }
      } catch (err) {
        $("count").textContent = "failed: " + err.message;
        $("count").className = "refused";
      }
    }

    async function tryReset() {
      try {
        // Not a "simple" request: the browser asks first (OPTIONS), the
        // API's answer allows only GET and POST, so the DELETE is never
        // sent and fetch rejects with a TypeError.
        const res = await fetch(api + "/count", { method: "DELETE", credentials: "include" });
        $("reset").textContent = "allowed (HTTP " + res.status + ")";
        $("reset").className = "ok";
      } catch (err) {
        $("reset").textContent = "refused";
        $("reset").className = "refused";
      }
    }

    countVisit().then(tryReset).finally(() => { $("status").textContent = "done"; });
  </script>
</body>
</html>
"#;
