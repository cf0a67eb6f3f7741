//! The endpoints where the identity provider delivers events to Warden (OpenID Connect
//! Back-Channel Logout, Shared Signals push): under the admin prefix, yet not behind the admin token — the event's
//! signature authenticates it — and never forwarded to the origin.

/// `POST` with a form body `logout_token=<JWT>` (OpenID Connect Back-Channel Logout 1.0 §2.5).
pub const BACKCHANNEL_LOGOUT_PATH: &str = "/_warden/oidc/backchannel-logout";

/// `POST` with a Security Event Token as the body (RFC 8935 push delivery).
pub const SSF_PUSH_PATH: &str = "/_warden/ssf/push";

/// A receiver endpoint: the driver reads the body, validates the event and applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Receiver {
    /// [`BACKCHANNEL_LOGOUT_PATH`].
    BackchannelLogout,
    /// [`SSF_PUSH_PATH`].
    SsfPush,
}

impl Receiver {
    /// Every receiver.
    pub const ALL: [Receiver; 2] = [Receiver::BackchannelLogout, Receiver::SsfPush];

    /// The receiver at exactly this canonical path (case-sensitive, no trailing `/`), if any.
    pub fn at(path: &str) -> Option<Receiver> {
        Receiver::ALL.into_iter().find(|r| r.path() == path)
    }

    /// Its path.
    pub fn path(self) -> &'static str {
        match self {
            Receiver::BackchannelLogout => BACKCHANNEL_LOGOUT_PATH,
            Receiver::SsfPush => SSF_PUSH_PATH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{Admission, Gate, RequestFacts};

    fn admit<'a>(path: &'a str, authorization: Option<&'a str>) -> Admission<'a> {
        let facts = RequestFacts {
            method: "POST",
            path,
            authorization,
            ..RequestFacts::default()
        };
        Gate::default().admit(&facts)
    }

    #[test]
    fn the_exact_path_is_a_receiver_with_or_without_credentials() {
        assert_eq!(
            admit(SSF_PUSH_PATH, None),
            Admission::Receiver(Receiver::SsfPush)
        );
        for path in [
            BACKCHANNEL_LOGOUT_PATH,
            "/_warden/oidc/backchannel%2Dlogout",
        ] {
            assert_eq!(
                admit(path, None),
                Admission::Receiver(Receiver::BackchannelLogout),
                "{path}"
            );
            assert_eq!(
                admit(path, Some("Bearer x.y.z")),
                Admission::Receiver(Receiver::BackchannelLogout)
            );
        }
    }

    #[test]
    fn anything_near_it_stays_behind_the_admin_token() {
        for path in [
            "/_warden/oidc/backchannel-logout/",
            "/_warden/oidc/Backchannel-Logout",
            "/_warden/oidc/backchannel-logout/x",
            "/_warden/oidc",
            "/_warden/oidc/backchannel-logoutx",
            "/_warden/ssf/push/",
            "/_warden/ssf/Push",
            "/_warden/ssf",
        ] {
            assert_eq!(admit(path, None), Admission::Admin, "{path}");
        }
        // One reading of the path comes first, as for every route.
        assert!(matches!(
            admit("/_warden/oidc/x/../backchannel-logout", None),
            Admission::Deny(_)
        ));
        assert!(matches!(
            admit("/_warden/oidc%2Fbackchannel-logout", None),
            Admission::Deny(_)
        ));
    }

    #[test]
    fn paths_round_trip() {
        for r in Receiver::ALL {
            assert_eq!(Receiver::at(r.path()), Some(r));
            assert!(r.path().starts_with("/_warden/"));
        }
        assert_eq!(Receiver::at("/_warden/revoke"), None);
    }
}
