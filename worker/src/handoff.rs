//! Promises the entry module awaits for the request path.
//!
//! A decision that checks a signature through WebCrypto waits for one promise. Awaited in Rust
//! (`JsFuture`, with the decision in a `future_to_promise` task) that costs two closures for
//! the promise's callbacks, a task queue and a second promise around the decision. Instead,
//! while `warden_decide` (edge.rs) polls a decision, a [`settled`] future
//! that is polled *hands* its promise out: the decision stops, the entry module awaits the
//! promise itself and passes what it settled with back in (`warden_resume`), and the decision
//! goes on from there. Anywhere else (the Durable Objects, the admin API, a decision already in
//! a task) [`settled`] awaits the promise in Rust as before.
//!
//! At most one promise is handed out per poll; a second one polled in the same poll (two
//! branches of a join) is awaited in Rust, and the decision's waker (edge.rs, `Relay`) keeps it
//! moving.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// How a promise settled: `Ok` with the value it was fulfilled with, `Err` with its reason.
pub type Settlement = Result<JsValue, JsValue>;

/// Where the entry module's answer for a handed-out promise goes.
pub type Slot = Rc<RefCell<Option<Settlement>>>;

thread_local! {
    /// Set while `warden_decide` or `warden_resume` polls a decision for the entry module.
    static OPEN: Cell<bool> = const { Cell::new(false) };
    /// The promise handed out during the current poll, and where its settlement goes.
    static HANDED: RefCell<Option<(Promise, Slot)>> = const { RefCell::new(None) };
}

/// Runs `poll` with hand-off open; returns its result and the promise handed out meanwhile, if
/// any (none when the poll completed: a promise handed out by a branch that was then dropped
/// is dropped with it).
pub fn open<T>(poll: impl FnOnce() -> Poll<T>) -> (Poll<T>, Option<(Promise, Slot)>) {
    OPEN.with(|open| open.set(true));
    let result = poll();
    OPEN.with(|open| open.set(false));
    let handed = HANDED.with(|handed| handed.borrow_mut().take());
    match result {
        Poll::Ready(_) => (result, None),
        Poll::Pending => (result, handed),
    }
}

/// The settlement of `promise`: handed to the entry module when polled inside [`open`] (once
/// per poll), awaited with `JsFuture` otherwise.
pub fn settled(promise: Promise) -> Settled {
    Settled(State::New(promise))
}

/// The future of [`settled`].
pub struct Settled(State);

enum State {
    New(Promise),
    Handed(Slot),
    Awaited(JsFuture),
    Done,
}

impl Future for Settled {
    type Output = Settlement;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Settlement> {
        if let State::New(_) = self.0 {
            let State::New(promise) = std::mem::replace(&mut self.0, State::Done) else {
                unreachable!()
            };
            self.0 = match hand_out(promise) {
                Ok(slot) => State::Handed(slot),
                Err(promise) => State::Awaited(JsFuture::from(promise)),
            };
        }
        match &mut self.0 {
            // Polled again only by `warden_resume`, which fills the slot first.
            State::Handed(slot) => {
                let settlement = slot.borrow_mut().take();
                match settlement {
                    Some(settlement) => {
                        self.0 = State::Done;
                        Poll::Ready(settlement)
                    }
                    None => Poll::Pending,
                }
            }
            State::Awaited(future) => Pin::new(future).poll(cx),
            State::New(_) | State::Done => Poll::Pending,
        }
    }
}

/// Hands `promise` out if a poll for the entry module is open and has not handed one out yet.
fn hand_out(promise: Promise) -> Result<Slot, Promise> {
    if !OPEN.with(Cell::get) {
        return Err(promise);
    }
    HANDED.with(|handed| {
        let mut handed = handed.borrow_mut();
        if handed.is_some() {
            return Err(promise);
        }
        let slot = Slot::default();
        *handed = Some((promise, Rc::clone(&slot)));
        Ok(slot)
    })
}
