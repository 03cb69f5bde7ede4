//! A real browser against the `browser` example's app: headless Chromium
//! loads the dashboard from the page server and its script calls the API,
//! on another origin, with the session cookie. The app is the example's
//! own (`examples/browser/app.rs`, included below), so the test runs what
//! the example runs, on loopback ports from binding port 0.
//!
//! Chromium runs with `--dump-dom`: it loads the page, runs its script and
//! prints the DOM as it then is, which holds what the script wrote: the
//! count the API answered, whether the `DELETE` was refused, and the
//! response headers the page could read. `--virtual-time-budget` makes it
//! wait for the page to settle first: virtual time stands still while a
//! request is pending, so a slow server makes it wait longer, not print
//! early; `#status` says `done` once the script has finished, and a DOM
//! without it fails the test. Each load is a Chromium process of its own,
//! killed if it outlives [`CHROMIUM_LIMIT`].
//!
//! The tests fail (they are never skipped) when Chromium is missing;
//! `.ci/run` installs it.

#[allow(dead_code)]
mod support;

#[path = "../examples/browser/app.rs"]
mod app;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::{agent, serve, Serve};

/// How long one Chromium run may take before it is killed and the test
/// fails (it takes about a second; much longer on a loaded machine).
const CHROMIUM_LIMIT: Duration = Duration::from_secs(30);

/// The program names Chromium has in distributions' packages.
const CHROMIUM_NAMES: &[&str] = &["chromium", "chromium-browser"];

/// The page server on `page_ip` and the API on 127.0.0.1, set up as the
/// example sets them up: the API allows the page's origin.
struct Dashboard {
    page: Serve,
    api: Serve,
}

impl Dashboard {
    fn start(page_ip: &str) -> Dashboard {
        let api_origin = Arc::new(app::ApiOrigin::default());
        let bind = format!("{page_ip}:0");
        let page = serve(|b| app::pages(b.bind(bind), Arc::clone(&api_origin)));
        let page_origin = page.url("");
        let api = serve(|b| app::api(b, &page_origin));
        api_origin.set(api.url(""));
        Dashboard { page, api }
    }
}

/// What the page's script wrote into the page.
#[derive(Debug)]
struct Seen {
    /// The count the API answered, or `failed: …`.
    count: String,
    /// `refused`, or `allowed (HTTP …)`.
    reset: String,
    /// The exposed response headers of the count's answer, as the page
    /// read them.
    headers: Vec<(String, String)>,
    /// The whole DOM and Chromium's log, which failure messages show.
    #[allow(dead_code)]
    dom: String,
    #[allow(dead_code)]
    log: String,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| panic!("the page shows no {name}: {self:#?}"), |(_, v)| v)
    }
}

/// Same site, another origin: the session cookie (`SameSite=Lax`) goes
/// with the page's credentialed fetch, so the count goes on across loads;
/// the `DELETE` the CORS policy does not allow is refused by the browser.
#[test]
fn the_dashboard_keeps_its_session_across_loads_and_the_browser_refuses_the_reset() {
    let chromium = chromium();
    let dashboard = Dashboard::start("127.0.0.1");
    let profile = tempfile::tempdir().expect("a profile directory");

    let first = load(&chromium, profile.path(), &dashboard.page.url("/"));
    // The cross-origin POST with credentials was sent and its answer read:
    // the API named the page's origin and allowed credentials.
    assert_eq!(first.count, "1", "{first:#?}");
    // The DELETE was refused: the preflight's answer allows GET and POST.
    assert_eq!(first.reset, "refused", "{first:#?}");
    // The headers as the browser saw them (readable because exposed).
    assert_eq!(first.header("x-content-type-options"), "nosniff");
    assert_eq!(first.header("x-frame-options"), "DENY");
    assert_eq!(
        first.header("referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    let id = first.header("x-request-id");
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{first:#?}"
    );

    // The same profile, another Chromium: the browser kept the session
    // cookie (on disk) and sent it with the cross-origin fetch, the server
    // read the session from it. It also shows the DELETE of the first load
    // never reached the server, which would have set the count back to 0.
    let second = load(&chromium, profile.path(), &dashboard.page.url("/"));
    assert_eq!(second.count, "2", "{second:#?}");
    assert_eq!(second.reset, "refused", "{second:#?}");
    assert_ne!(second.header("x-request-id"), id);

    // The refusal is the browser's: the API answers a DELETE from a client
    // that is no browser (and a client without the cookie gets a new
    // session, whose cookie is SameSite=Lax: the premise of the test below).
    let agent = agent();
    let reset = agent
        .delete(&dashboard.api.url("/count"))
        .call()
        .expect("DELETE /count is answered");
    assert_eq!(reset.status(), 200);
    assert_eq!(reset.into_string().unwrap(), "0");
    let fresh = agent
        .post(&dashboard.api.url("/count"))
        .call()
        .expect("POST /count is answered");
    let cookie = fresh.header("set-cookie").unwrap_or_default().to_owned();
    assert_eq!(fresh.into_string().unwrap(), "1");
    assert!(
        cookie.starts_with("session=") && cookie.contains("SameSite=Lax"),
        "{cookie:?}"
    );
}

/// Why the test above works: `SameSite` is about sites, not origins. A
/// site is the scheme and the host (its registrable domain; for an IP
/// address, the address itself), ports aside, so `http://127.0.0.1:A` and
/// `http://127.0.0.1:B` are one site and a `SameSite=Lax` cookie goes with
/// requests between them. A page on 127.0.0.2 is another site: CORS lets
/// it read the count all the same (the API allows its origin), but the
/// browser neither keeps nor sends the API's Lax cookie for it, so every
/// load is a new session.
#[test]
fn a_page_on_another_site_reads_the_count_but_gets_no_session() {
    let chromium = chromium();
    let dashboard = Dashboard::start("127.0.0.2");
    let profile = tempfile::tempdir().expect("a profile directory");

    for _ in 0..2 {
        let seen = load(&chromium, profile.path(), &dashboard.page.url("/"));
        assert_eq!(seen.count, "1", "{seen:#?}");
        assert_eq!(seen.reset, "refused", "{seen:#?}");
    }
}

/// Loads `url` in headless Chromium with the profile in `profile` and
/// returns what the page's script wrote, once it has finished.
fn load(chromium: &Path, profile: &Path, url: &str) -> Seen {
    let started = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--headless=new",
            // Chromium's sandbox needs user namespaces, which containers
            // (and root) often lack.
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            // No calls home (updates, sync, field trials): only loopback.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Cookies are stored without the desktop's keyring, which a
            // test machine has not.
            "--password-store=basic",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", chromium.display()));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());

    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for Chromium") {
            break status;
        }
        if started.elapsed() > CHROMIUM_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium did not end within {CHROMIUM_LIMIT:?}\n--- stdout:\n{}\n--- stderr:\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let dom = stdout.join().unwrap_or_default();
    let log = stderr.join().unwrap_or_default();
    assert!(
        status.success(),
        "Chromium ended with {status}\n--- stdout:\n{dom}\n--- stderr:\n{log}"
    );
    assert_eq!(
        text_of(&dom, "status").as_deref(),
        Some("done"),
        "the page's script did not finish\n--- DOM:\n{dom}\n--- stderr:\n{log}"
    );
    println!("Chromium loaded {url} in {:?}", started.elapsed());

    let headers = app::EXPOSED
        .iter()
        .filter_map(|name| {
            let value = text_of(&dom, &format!("header-{name}"))?;
            Some(((*name).to_owned(), value))
        })
        .collect();
    Seen {
        count: text_of(&dom, "count").unwrap_or_default(),
        reset: text_of(&dom, "reset").unwrap_or_default(),
        headers,
        dom,
        log,
    }
}

/// The text in the element with the id `id`, which holds no markup.
fn text_of(dom: &str, id: &str) -> Option<String> {
    let (_, rest) = dom.split_once(&format!(" id=\"{id}\""))?;
    let (_, rest) = rest.split_once('>')?;
    let (text, _) = rest.split_once('<')?;
    Some(text.trim().to_owned())
}

/// The Chromium program.
///
/// # Panics
/// When there is none, with how to install it.
fn chromium() -> PathBuf {
    let mut tried = Vec::new();
    for name in CHROMIUM_NAMES {
        let found = Command::new(name)
            .arg("--version")
            .stdin(Stdio::null())
            .output();
        match found {
            Ok(output) if output.status.success() => return PathBuf::from(name),
            other => tried.push(format!("`{name} --version`: {other:?}")),
        }
    }
    panic!(
        "Chromium is not installed ({}); install it, e.g. `apt-get install chromium` \
         (`.ci/run` does): this test loads a page in a real browser",
        tried.join("; ")
    )
}

/// Reads `pipe` to its end on a thread; the thread returns what it read.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
