//! The isolate's state epoch: a counter that moves whenever in-memory state a decision reads
//! changes — the revocation snapshot or this isolate's own writes over it, a fetched key set
//! (adopted, or a failed attempt), the verified-token cache emptied.
//!
//! The entry module replays a decision for an identical request only within the same clock
//! second and the same epoch (`edge::warden_decide`): a decision reached without I/O is a
//! function of the request, the configuration (fixed per isolate), the clock in seconds and
//! this state, so the replay is the decision the core would make again.

use std::cell::Cell;

thread_local! {
    static EPOCH: Cell<u32> = const { Cell::new(0) };
}

/// The current epoch.
pub fn current() -> u32 {
    EPOCH.with(Cell::get)
}

/// Marks a change of decision-relevant state: decisions made before it are not replayed.
pub fn changed() {
    EPOCH.with(|e| e.set(e.get().wrapping_add(1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_moves_the_epoch() {
        let before = current();
        changed();
        assert_ne!(current(), before);
        let after = current();
        changed();
        changed();
        assert_ne!(current(), after);
    }
}
