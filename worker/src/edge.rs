//! The worker's entry points: the fetch handler (test routes, then the gate's request path)
//! and the cron trigger. Everything else lives in the module for its job.

use serde_json::json;
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use crate::audit::{audit, AuditEvent};
use crate::config::ConfigError;
use crate::http::json_response;
use crate::pat;
use crate::protect;
use crate::runtime::{config, unix_now};

fn config_failed(e: &ConfigError) {
    audit(
        AuditEvent::ConfigError,
        json!({"variable": e.variable, "reason": e.reason}),
    );
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let now = unix_now();
    let config = match config(&env) {
        Ok(c) => c,
        Err(e) => {
            config_failed(&e);
            return json_response(
                500,
                &json!({"error": "server_error", "error_description": "worker misconfigured"}),
            );
        }
    };
    #[cfg(feature = "testing")]
    if req.path().starts_with("/__warden/") {
        return crate::testing::route(req, &env, &config, now).await;
    }
    protect::handle(req, &env, &config, &ctx, now).await
}

/// The cron trigger: reaps expired PAT records.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now = unix_now();
    if let Err(e) = config(&env) {
        config_failed(&e);
        return;
    }
    match pat::reap(&env, now).await {
        Ok(reaped) => audit(
            AuditEvent::Reap,
            json!({"cron": event.cron(), "reaped": reaped}),
        ),
        Err(e) => audit(
            AuditEvent::StoreError,
            json!({"op": "reap", "error": e.to_string()}),
        ),
    }
}
