//! The isolate's state that outlives one request: its configuration, parsed once on first use
//! (the fetch and scheduled handlers and the Durable Objects all take it from here), and the
//! clock.

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use std::cell::RefCell;
    use std::rc::Rc;

    use worker::Env;

    use crate::config::{Config, ConfigError};
    use crate::protocol::{DO_BINDING, DO_CLASS};
    use crate::store::KV_BINDING;

    thread_local! {
        // Parsed once per isolate (an isolate runs one request at a time per thread).
        static CONFIG: RefCell<Option<Result<Rc<Config>, ConfigError>>> = const { RefCell::new(None) };
    }

    /// The isolate's configuration: the bindings checked and every variable parsed on first
    /// use; the same answer (or the same error) afterwards.
    pub fn config(env: &Env) -> Result<Rc<Config>, ConfigError> {
        CONFIG.with(|cell| {
            cell.borrow_mut()
                .get_or_insert_with(|| {
                    if env.kv(KV_BINDING).is_err() {
                        return Err(ConfigError {
                            variable: KV_BINDING,
                            reason: "KV namespace binding is missing".into(),
                        });
                    }
                    if env.durable_object(DO_BINDING).is_err() {
                        return Err(ConfigError {
                            variable: DO_BINDING,
                            reason: format!("Durable Object binding is missing (class {DO_CLASS})"),
                        });
                    }
                    Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string())).map(Rc::new)
                })
                .clone()
        })
    }

    /// Unix seconds, read once per request (on Workers the clock only moves after I/O anyway).
    pub fn unix_now() -> u64 {
        // One call into JS and no Date object (`worker::Date::now` makes one).
        (js_sys::Date::now() / 1000.0) as u64
    }
}
