//! What a reader concludes from a filter and its delta: per id, and per token.

use core::fmt;

use super::{Delta, FilterError, IdKind, PublishedFilter};
use crate::revocation::{Fact, RevocationIds, RevocationReason, RevocationStatus, StoreAnswers};
use crate::UnixTime;

/// What the filter says about one id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// Not revoked (or no such id): no read needed.
    Absent,
    /// Revoked, exactly (the delta lists it).
    Present,
    /// A filter hit: confirm with one read of the id's record (a false positive costs a read,
    /// never a verdict).
    Maybe,
}

impl Membership {
    /// As a store fact; `Maybe` is [`Fact::Unknown`] until read.
    pub fn fact(self) -> Fact {
        match self {
            Membership::Absent => Fact::Absent,
            Membership::Present => Fact::Present,
            Membership::Maybe => Fact::Unknown,
        }
    }
}

/// Why the filter cannot answer: read each id instead (never assume absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unusable {
    /// No filter has been read.
    Missing,
    /// The published value was refused.
    Corrupt(FilterError),
    /// What it knows is older than the staleness bound allows.
    Stale {
        /// When the filter (or its delta) was built.
        as_of: UnixTime,
    },
    /// Built further in the future than the staleness bound: a clock is wrong.
    Ahead {
        /// When the filter (or its delta) says it was built.
        as_of: UnixTime,
    },
}

impl Unusable {
    /// A stable word for audit lines.
    pub fn code(self) -> &'static str {
        match self {
            Unusable::Missing => "filter_missing",
            Unusable::Corrupt(_) => "filter_corrupt",
            Unusable::Stale { .. } => "filter_stale",
            Unusable::Ahead { .. } => "filter_ahead",
        }
    }
}

impl From<FilterError> for Unusable {
    fn from(e: FilterError) -> Self {
        Unusable::Corrupt(e)
    }
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::Missing => f.write_str("no revocation filter"),
            Unusable::Corrupt(e) => write!(f, "revocation filter refused: {e}"),
            Unusable::Stale { as_of } => write!(f, "revocation filter stale (as of {as_of})"),
            Unusable::Ahead { as_of } => {
                write!(f, "revocation filter from the future (as of {as_of})")
            }
        }
    }
}

/// A filter and its delta, checked fresh enough to answer at `now`.
#[derive(Clone, Copy, Debug)]
pub struct FilterView<'a> {
    filter: &'a PublishedFilter,
    delta: Option<&'a Delta>,
    now: UnixTime,
    as_of: UnixTime,
}

impl<'a> FilterView<'a> {
    /// The view at `now`, or why there is none. A delta counts only when its base is this
    /// filter's checksum (otherwise it extends another filter and is ignored); the view then
    /// knows every revocation recorded before `as_of` — the delta's `built_at`, else the
    /// filter's — which must be within `max_age` of `now`, either way.
    pub fn new(
        filter: Option<&'a PublishedFilter>,
        delta: Option<&'a Delta>,
        now: UnixTime,
        max_age: u64,
    ) -> Result<FilterView<'a>, Unusable> {
        let filter = filter.ok_or(Unusable::Missing)?;
        let delta = delta.filter(|d| d.base() == filter.checksum());
        let as_of = delta.map_or(filter.built_at(), |d| d.built_at().max(filter.built_at()));
        if now > as_of.saturating_add(max_age) {
            return Err(Unusable::Stale { as_of });
        }
        if as_of > now.saturating_add(max_age) {
            return Err(Unusable::Ahead { as_of });
        }
        Ok(FilterView {
            filter,
            delta,
            now,
            as_of,
        })
    }

    /// Every revocation recorded before this time is known to the view.
    pub fn as_of(&self) -> UnixTime {
        self.as_of
    }

    /// Whether the delta counted (it extends this filter).
    pub fn uses_delta(&self) -> bool {
        self.delta.is_some()
    }

    /// What the view says about `id` (`None`: the token has no such id → absent).
    pub fn id(&self, kind: IdKind, id: Option<&str>) -> Membership {
        let Some(id) = id else {
            return Membership::Absent;
        };
        if self.delta.is_some_and(|d| d.revokes(kind, id, self.now)) {
            Membership::Present
        } else if self.filter.may_contain(kind, id) {
            Membership::Maybe
        } else {
            Membership::Absent
        }
    }

    /// `sub`'s cutoff (exact: the higher of the filter's and the delta's).
    pub fn cutoff(&self, sub: Option<&str>) -> Option<UnixTime> {
        let sub = sub?;
        let filter = self.filter.cutoff(sub, self.now);
        let delta = self.delta.and_then(|d| d.cutoff(sub, self.now));
        filter.max(delta)
    }

    /// The answers for a token's ids.
    pub fn answers(&self, ids: &RevocationIds) -> FilterAnswers {
        FilterAnswers {
            jti: self.id(IdKind::Jti, ids.jti),
            sid: self.id(IdKind::Sid, ids.sid),
            kid: self.id(IdKind::Kid, ids.kid),
            subject_cutoff: self.cutoff(ids.sub),
        }
    }

    /// The decision for a token's ids (never [`FilterDecision::Unusable`]).
    pub fn decide(&self, ids: &RevocationIds) -> FilterDecision {
        let answers = self.answers(ids);
        match ids.interpret(&answers.store_answers()) {
            RevocationStatus::Revoked(reason) => FilterDecision::Present(reason),
            RevocationStatus::NotRevoked => FilterDecision::Absent,
            RevocationStatus::Unavailable => FilterDecision::Maybe(answers),
        }
    }
}

/// What the view says about each of a token's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterAnswers {
    /// The `jti`.
    pub jti: Membership,
    /// The `sid`.
    pub sid: Membership,
    /// The `kid`.
    pub kid: Membership,
    /// The subject's cutoff (exact).
    pub subject_cutoff: Option<UnixTime>,
}

impl FilterAnswers {
    /// As the store's answers, each [`Membership::Maybe`] a [`Fact::Unknown`]: replace those
    /// with what the reads found, then [`RevocationIds::interpret`].
    pub fn store_answers(&self) -> StoreAnswers {
        StoreAnswers {
            jti: self.jti.fact(),
            sid: self.sid.fact(),
            kid: self.kid.fact(),
            subject_cutoff: Ok(self.subject_cutoff),
        }
    }
}

/// The decision for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterDecision {
    /// Not revoked: no read needed.
    Absent,
    /// Revoked, exactly (the delta, or a subject cutoff covering its `iat`).
    Present(RevocationReason),
    /// Nothing exact revokes it, and the ids that say [`Membership::Maybe`] must each be read.
    Maybe(FilterAnswers),
    /// The filter cannot answer: read every id as without one.
    Unusable(Unusable),
}

/// The decision for a token's `ids` from the filter and delta held at `now`, with staleness
/// bound `max_age` (see [`FilterView::new`]).
pub fn decide(
    filter: Option<&PublishedFilter>,
    delta: Option<&Delta>,
    now: UnixTime,
    max_age: u64,
    ids: &RevocationIds,
) -> FilterDecision {
    match FilterView::new(filter, delta, now, max_age) {
        Ok(view) => view.decide(ids),
        Err(reason) => FilterDecision::Unusable(reason),
    }
}
