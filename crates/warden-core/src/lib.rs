#![no_std]
#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod algorithm;
mod b64;
mod claims;
mod denial;
mod digest;
#[cfg(feature = "json")]
mod dpop;
pub mod filter;
#[cfg(feature = "json")]
mod gate;
mod grant;
mod json;
mod keys;
pub mod lifetime;
mod parse;
mod pat;
mod policy;
mod reader;
mod records;
mod revocation;
#[cfg(feature = "json")]
mod secevent;
mod session;
#[cfg(feature = "jwt")]
mod verify_jwt;

pub use algorithm::Algorithm;
pub use claims::{Claims, Cnf, CnfMember, TimeClaims, MAX_ID_LEN, MAX_NUMERIC_DATE};
pub use denial::{Denial, Verdict};
pub use digest::{hex, token_digest};
#[cfg(feature = "json")]
pub use dpop::{
    access_token_hash, certificate_matches, jwk_thumbprint, normalize_htu, parse_proof,
    proof_jwk_members, Binding, Confirmation, DpopError, DpopMode, DpopPolicy, NonceKey, Proof,
    ProofContext, ReplayId, DEFAULT_DPOP_ALGORITHMS, DEFAULT_DPOP_MAX_AGE, MAX_PROOF_LEN,
    NONCE_STEP_SECONDS,
};
#[cfg(feature = "json")]
pub use gate::{
    canonical_path, check_authorization, check_identity, check_scopes, cookie, cookie_max_age,
    cookie_safe, header_value, identity_headers, is_identity_value, is_pat, is_reserved_header,
    is_scope_list, is_scope_token, path_and_query, path_prefix, refresh_cookie,
    rewrite_cookie_header, scopes, select_credential, Admission, CanonicalPath, Decision,
    DpopAnswer, FailMode, Forward, Gate, PathRules, Receiver, Refusal, Request, RequestFacts,
    Route, Sender, Source, Step, Who, ADMIN_PREFIX, BACKCHANNEL_LOGOUT_PATH, DEFAULT_PAT_PREFIX,
    IDENTITY_PREFIX, MAX_LIST_ENTRIES, MAX_PATH_LEN, MAX_PREFIX_LEN, MAX_SCOPE_LEN, SSF_PUSH_PATH,
};
pub use grant::{Grant, RefreshHint, TokenClass};
#[cfg(feature = "json")]
pub use json::parse_object as parse_json_object;
pub use json::JsonError;
pub use keys::{
    Key, KeyError, KeyMaterial, KeySet, SignatureError, SignatureVerifier, MIN_RSA_BITS,
};
pub use parse::{
    parse, parse_times, Header, ParseError, Part, Token, FORBIDDEN_HEADERS, KEY_CHOOSING_HEADERS,
    MAX_KID_LEN, MAX_TOKEN_LEN,
};
pub use pat::{PatRecord, NEVER};
pub use policy::{typ_matches, Policy, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, OTHER_KINDS};
pub use records::{
    cutoff_expiration, judge_refresh, raised_cutoff, record_expiration, requested_cutoff,
    session_expiration, token_expiration, CutoffTooLate, RefreshJudgement, MIN_RECORD_SECONDS,
};
pub use revocation::{
    under_cutoff, Fact, RevocationIds, RevocationReason, RevocationStatus, StoreAnswers,
    Unavailable,
};
#[cfg(feature = "json")]
pub use secevent::{
    parse_set, select_set_key, verify_set_signature, EventAction, EventKind, LogoutPolicy,
    Received, SetError, SetErrorCode, SetPolicy, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TYP, SET_TYP,
};
pub use session::{SessionPolicy, SessionState};
#[cfg(feature = "jwt")]
pub use verify_jwt::JwtVerifier;

/// Checks the token reader against serde_json on `bytes` (panics when they disagree): the fuzz
/// target `json_reader`. Only in fuzzing builds (cargo-fuzz sets `--cfg fuzzing`).
#[cfg(all(fuzzing, feature = "json"))]
#[doc(hidden)]
pub fn fuzz_json_reader(bytes: &[u8]) {
    let _ = reader::differential::agree(bytes, &claims::CLAIM_NAMES);
    let _ = reader::differential::agree(bytes, &parse::HEADER_NAMES);
}

/// Seconds since the Unix epoch. Warden never reads a clock: the caller passes `now`.
pub type UnixTime = u64;
