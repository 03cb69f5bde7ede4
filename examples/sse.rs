//! Server-sent events: a clock that ticks every second on every open
//! `GET /events` stream, and a page at `/` that shows it with `EventSource`.
//!
//! ```text
//! cargo run --example sse
//! # open http://127.0.0.1:7878/ in a browser (several tabs: each is a client)
//! curl -N http://127.0.0.1:7878/events            # retry: 2000, then one event a second:
//!                                                 #   event: tick / id: 3 / data: 12:00:03 UTC, 1 client
//! timeout 3 curl -sN http://127.0.0.1:7878/events # the same, for 3 seconds
//! ```
//!
//! A ticker thread broadcasts to the senders kept in a `State`, and forgets
//! each one whose send fails: its client has gone, or stopped reading until
//! its queue (64 KiB) filled, which disconnects it. Open streams hold no
//! worker, so the 2 workers here keep answering `/` however many clients
//! listen. Ctrl-C ends the streams cleanly and stops the server. Set
//! `RUST_LOG` (for example `RUST_LOG=debug`) to change the log level.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pool_server::sse::{self, Event, EventSender, EventStream};
use pool_server::{route, routes, Response, Server, State};

/// The streams open now, shared with the ticker thread through
/// `Builder::shared_state`.
type Clients = Mutex<Vec<EventSender>>;

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>pool-server clock</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 3em; }
    #clock { font-size: 3em; font-variant-numeric: tabular-nums; }
    #status { color: #777; }
  </style>
</head>
<body>
  <div id="clock">waiting for the first tick…</div>
  <p id="status">connecting…</p>
  <script>
    const clock = document.getElementById("clock");
    const status = document.getElementById("status");
    const events = new EventSource("/events");
    events.addEventListener("tick", (e) => {
      clock.textContent = e.data;
      status.textContent = "tick " + e.lastEventId;
    });
    // EventSource reconnects by itself, after the `retry` the server sent.
    events.onerror = () => { status.textContent = "disconnected, retrying…"; };
  </script>
</body>
</html>
"#;

#[route("GET /")]
fn index() -> Response {
    Response::html(PAGE)
}

#[route("GET /events")]
fn events(clients: State<Clients>) -> EventStream {
    let (sender, stream) = sse::channel();
    let mut clients = lock(&clients);
    clients.push(sender);
    log::info!("a client listens; {} open", clients.len());
    // If the server restarts, browsers come back after 2 s.
    stream.retry(Duration::from_secs(2))
}

/// Locks the list. Nothing that can panic runs under the lock but `send`,
/// so a poisoned list is still consistent: keep using it.
fn lock(clients: &Mutex<Vec<EventSender>>) -> MutexGuard<'_, Vec<EventSender>> {
    clients.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends one tick a second to every client, forever.
fn tick(clients: &Mutex<Vec<EventSender>>) {
    for n in 1u64.. {
        thread::sleep(Duration::from_secs(1));
        let mut clients = lock(clients);
        let before = clients.len();
        let text = format!("{}, {before} client{}", utc_time(), plural(before));
        let event = Event::data(text).event("tick").id(n.to_string());
        clients.retain(|client| client.send(event.clone()).is_ok());
        if clients.len() < before {
            log::info!(
                "{} client(s) left; {} open",
                before - clients.len(),
                clients.len()
            );
        }
    }
}

/// The time of day in UTC, `HH:MM:SS UTC`, without a date crate.
fn utc_time() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02} UTC", day / 3600, day / 60 % 60, day % 60)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let clients = Arc::new(Clients::default());
    let ticker = Arc::clone(&clients);
    // Detached: it ends with the process once `run` returns.
    thread::Builder::new()
        .name("ticker".into())
        .spawn(move || tick(&ticker))?;

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(2)
        .shared_state(clients)
        .routes(routes![index, events])
        .build()?;
    println!("open http://{}/ in a browser", server.local_addr());
    println!("or: curl -N http://{}/events", server.local_addr());
    server.run()?;
    Ok(())
}
