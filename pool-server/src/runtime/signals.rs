//! SIGINT and SIGTERM while [`Server::run`](crate::Server::run) serves: they
//! begin a graceful shutdown. Once no `run` is serving any more, both have
//! their default action again, so Ctrl-C stops a program that goes on after
//! its server returned.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mio::{Interest, Registry, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use crate::error::Error;

const SIGNALS: [i32; 2] = [SIGINT, SIGTERM];

/// The signals one running server listens to; dropping it gives them back.
pub(crate) struct ShutdownSignals {
    signals: Signals,
    _serving: Serving,
}

impl ShutdownSignals {
    pub(crate) fn register(registry: &Registry, token: Token) -> Result<Self, Error> {
        let serving = Serving::begin()?;
        let mut signals =
            Signals::new(SIGNALS).map_err(|err| Error::io("cannot handle signals", err))?;
        registry
            .register(&mut signals, token, Interest::READABLE)
            .map_err(|err| Error::io("cannot poll for signals", err))?;
        Ok(ShutdownSignals {
            signals,
            _serving: serving,
        })
    }

    /// Whether a signal arrived since the last call.
    pub(crate) fn arrived(&mut self) -> bool {
        self.signals.pending().count() > 0
    }
}

/// Counts the `run` calls serving now. signal-hook keeps its handler
/// installed once it has been, and without an action of ours a signal would
/// then be swallowed; so a permanent action runs the default one whenever no
/// server is serving.
struct Serving;

static SERVING: Mutex<usize> = Mutex::new(0);
static DEFAULT_ACTION: OnceLock<Arc<AtomicBool>> = OnceLock::new();

impl Serving {
    fn begin() -> Result<Serving, Error> {
        let mut serving = SERVING.lock().unwrap_or_else(|e| e.into_inner());
        let default = match DEFAULT_ACTION.get() {
            Some(default) => default,
            None => {
                let default = Arc::new(AtomicBool::new(false));
                for signal in SIGNALS {
                    signal_hook::flag::register_conditional_default(signal, Arc::clone(&default))
                        .map_err(|err| Error::io("cannot handle signals", err))?;
                }
                DEFAULT_ACTION.get_or_init(|| default)
            }
        };
        default.store(false, Ordering::SeqCst);
        *serving += 1;
        Ok(Serving)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let mut serving = SERVING.lock().unwrap_or_else(|e| e.into_inner());
        *serving -= 1;
        if *serving == 0 {
            if let Some(default) = DEFAULT_ACTION.get() {
                default.store(true, Ordering::SeqCst);
            }
        }
    }
}
