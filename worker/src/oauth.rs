//! The refresh call to the origin, as OAuth 2.0 (RFC 6749 §6) so any authorization server's
//! token endpoint can be the origin; and the session cookies that carry the result. Pure.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

/// A fresh pair from the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPair {
    /// The new access token.
    pub access_token: String,
    /// The new (rotated) refresh token. When the server does not rotate, the old one stays.
    pub refresh_token: String,
    /// `expires_in`, when given.
    pub expires_in: Option<u64>,
}

/// Why a refresh did not produce a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshFailure {
    /// `400 {"error": "invalid_grant"}`: the refresh token is dead. The user must log in again.
    InvalidGrant,
    /// Anything else: the server failed or answered nonsense. Transient: never log anyone out.
    Upstream(String),
}

/// The form body of a refresh request: `grant_type=refresh_token&refresh_token=…` (+ `client_id`
/// for public clients, i.e. when no client secret authenticates the call).
pub fn request_body(refresh_token: &str, client_id: Option<&str>, has_secret: bool) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "refresh_token");
    form.append_pair("refresh_token", refresh_token);
    if let (Some(id), false) = (client_id, has_secret) {
        form.append_pair("client_id", id);
    }
    form.finish()
}

/// HTTP Basic client authentication (RFC 6749 §2.3.1: both parts form-encoded first).
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

/// Reads the token endpoint's answer.
pub fn parse_response(
    status: u16,
    body: &str,
    old_refresh_token: &str,
) -> Result<TokenPair, RefreshFailure> {
    let json: Option<Value> = crate::fields::parse(body).ok();
    if status == 400 || status == 401 {
        let error = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str);
        if error == Some("invalid_grant") {
            return Err(RefreshFailure::InvalidGrant);
        }
        return Err(RefreshFailure::Upstream(format!(
            "token endpoint answered {status} {}",
            error.unwrap_or("?")
        )));
    }
    if status != 200 {
        return Err(RefreshFailure::Upstream(format!(
            "token endpoint answered {status}"
        )));
    }
    let json =
        json.ok_or_else(|| RefreshFailure::Upstream("token endpoint answered non-JSON".into()))?;
    let text = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let access_token =
        text("access_token").ok_or_else(|| RefreshFailure::Upstream("no access_token".into()))?;
    if let Some(kind) = text("token_type") {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(RefreshFailure::Upstream(format!(
                "token_type {kind:?} is not Bearer"
            )));
        }
    }
    Ok(TokenPair {
        access_token: access_token.to_owned(),
        refresh_token: text("refresh_token")
            .unwrap_or(old_refresh_token)
            .to_owned(),
        expires_in: json.get("expires_in").and_then(Value::as_u64),
    })
}

/// A session cookie: `HttpOnly; Secure; SameSite=Lax; Path=/`, living `max_age` seconds.
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}")
}

/// A cookie that deletes `name`.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_body_is_encoded() {
        assert_eq!(
            request_body("a+b/c=", Some("web app"), false),
            "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3D&client_id=web+app"
        );
        assert_eq!(
            request_body("t", Some("web"), true),
            "grant_type=refresh_token&refresh_token=t"
        );
        assert_eq!(
            request_body("t", None, false),
            "grant_type=refresh_token&refresh_token=t"
        );
        assert_eq!(
            basic_auth("web app", "s:cret"),
            format!("Basic {}", STANDARD.encode("web+app:s%3Acret"))
        );
    }

    #[test]
    fn responses() {
        let ok =
            r#"{"access_token":"A","token_type":"Bearer","expires_in":60,"refresh_token":"R2"}"#;
        assert_eq!(
            parse_response(200, ok, "R1"),
            Ok(TokenPair {
                access_token: "A".into(),
                refresh_token: "R2".into(),
                expires_in: Some(60)
            })
        );
        // A server that does not rotate keeps the old refresh token.
        assert_eq!(
            parse_response(200, r#"{"access_token":"A"}"#, "R1")
                .unwrap()
                .refresh_token,
            "R1"
        );
        assert_eq!(
            parse_response(400, r#"{"error":"invalid_grant"}"#, "R"),
            Err(RefreshFailure::InvalidGrant)
        );
        assert!(matches!(
            parse_response(400, r#"{"error":"invalid_client"}"#, "R"),
            Err(RefreshFailure::Upstream(_))
        ));
        assert!(matches!(
            parse_response(503, "", "R"),
            Err(RefreshFailure::Upstream(_))
        ));
        assert!(matches!(
            parse_response(200, "<html>", "R"),
            Err(RefreshFailure::Upstream(_))
        ));
        assert!(matches!(
            parse_response(200, r#"{"access_token":"A","token_type":"mac"}"#, "R"),
            Err(RefreshFailure::Upstream(_))
        ));
    }

    #[test]
    fn cookies() {
        assert_eq!(
            set_cookie("at", "v", 60),
            "at=v; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=60"
        );
        assert!(clear_cookie("at").ends_with("Max-Age=0"));
    }
}
