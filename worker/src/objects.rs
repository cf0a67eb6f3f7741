//! The Durable Object class `WardenSessions` (binding `WARDEN_SESSIONS`): reads one
//! [`ObjectRequest`] and hands it to the subject cutoffs (`sub:<sub>` objects,
//! [`crate::subject`]), the sessions (`sid:<sid>`, `rt:<hash>`, [`crate::sessions`]) or the DPoP
//! proof ledger (`dpop:<shard>`, [`crate::replay`]) or the revocation log (`revlog`,
//! [`crate::revlog`]), with the isolate's configuration
//! ([`crate::runtime::config`]).

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
// `#[durable_object]` generates undocumented public glue (constructor, fetch).
#[allow(missing_docs)]
mod io {
    use std::cell::Cell;
    use std::rc::Rc;

    use warden_core::UnixTime;
    use worker::{durable_object, DurableObject, Env, Method, Request, Response, State};

    use crate::protocol::{ObjectAnswer, ObjectRequest};
    use crate::sessions::{self, Memory};
    use crate::{replay, revlog, runtime, subject};

    /// Keeps one subject's cutoff monotonic (object name `sub:<sub>`), serialises the
    /// refreshes of one session (`sid:<sid>`, `rt:<hash>`), and remembers one shard's DPoP
    /// proofs (`dpop:<shard>`).
    #[durable_object]
    pub struct WardenSessions {
        state: State,
        env: Env,
        /// The cutoff this instance last wrote to KV (0: none yet).
        written: Rc<Cell<UnixTime>>,
        /// A session object's memory (in-flight refresh, replay pair).
        memory: Rc<Memory>,
        /// A `dpop:` object's table exists.
        proof_table: Cell<bool>,
        /// The `revlog` object's tables exist.
        log_tables: Cell<bool>,
    }

    /// Runs `create` unless it already succeeded in this instance (`made`).
    fn once(made: &Cell<bool>, create: impl FnOnce() -> worker::Result<()>) -> worker::Result<()> {
        if made.get() {
            return Ok(());
        }
        let created = create();
        made.set(created.is_ok());
        created
    }

    /// The answer as the body of a 200.
    fn reply(answer: &ObjectAnswer) -> worker::Result<Response> {
        let mut resp = Response::ok(answer.to_json())?;
        resp.headers_mut().set("content-type", "application/json")?;
        Ok(resp)
    }

    fn answer(done: worker::Result<ObjectAnswer>) -> worker::Result<Response> {
        match done {
            Ok(answer) => reply(&answer),
            Err(e) => Response::error(e.to_string(), 503),
        }
    }

    impl DurableObject for WardenSessions {
        fn new(state: State, env: Env) -> Self {
            WardenSessions {
                state,
                env,
                written: Rc::new(Cell::new(0)),
                memory: Rc::new(Memory::default()),
                proof_table: Cell::new(false),
                log_tables: Cell::new(false),
            }
        }

        async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
            if req.method() != Method::Post {
                return Response::error("not found", 404);
            }
            let Some(request) = ObjectRequest::from_json(&req.text().await?) else {
                return Response::error("bad request", 400);
            };
            let config = runtime::config(&self.env);
            let storage = self.state.storage();
            match request {
                ObjectRequest::Refresh { session, obtained } => {
                    let memory = Rc::clone(&self.memory);
                    let env = self.env.clone();
                    let refreshed =
                        sessions::refresh(storage, env, memory, config, session, obtained).await;
                    reply(&ObjectAnswer::Refreshed(refreshed))
                }
                ObjectRequest::Seen(session) => answer(
                    sessions::seen(&storage, &self.env, &config, &session)
                        .await
                        .map(|()| ObjectAnswer::Done),
                ),
                ObjectRequest::End { sid, sub, reason } => answer(
                    sessions::end(
                        &storage,
                        &self.env,
                        &self.memory,
                        &config,
                        &sid,
                        sub,
                        reason,
                    )
                    .await
                    .map(|()| ObjectAnswer::Done),
                ),
                ObjectRequest::UseProof { id, until } => {
                    let sql = storage.sql();
                    let made = once(&self.proof_table, || replay::create_table(&sql));
                    let now = (js_sys::Date::now() / 1000.0) as UnixTime;
                    answer(
                        made.and_then(|()| replay::use_once(&sql, &id, until, now))
                            .map(ObjectAnswer::FirstUse),
                    )
                }
                ObjectRequest::Record { ids, cutoffs } => {
                    let sql = storage.sql();
                    let mut done = once(&self.log_tables, || revlog::create_tables(&sql))
                        .and_then(|()| revlog::record(&sql, &ids, &cutoffs));
                    if done.is_ok() {
                        done = revlog::schedule(&storage, revlog::PUBLISH_DELAY_MS).await;
                    }
                    answer(done.map(|()| ObjectAnswer::Done))
                }
                ObjectRequest::Publish | ObjectRequest::Reseed => {
                    let sql = storage.sql();
                    let mut done = once(&self.log_tables, || revlog::create_tables(&sql));
                    if done.is_ok() && request == ObjectRequest::Reseed {
                        done = revlog::reseed(&sql, &self.env).await;
                    }
                    if done.is_ok() {
                        done = revlog::schedule(&storage, 0).await;
                    }
                    answer(done.map(|()| ObjectAnswer::Done))
                }
                ObjectRequest::ReadCutoff => {
                    answer(subject::stored(&storage).await.map(ObjectAnswer::Stored))
                }
                ObjectRequest::RaiseCutoff(request) => {
                    let env = self.env.clone();
                    let written = Rc::clone(&self.written);
                    // Errors travel inside Ok: an Err here would reset the object.
                    let outcome = self
                        .state
                        .block_concurrency_while(async move {
                            Ok(subject::raise(storage, env, written, request).await)
                        })
                        .await;
                    match outcome {
                        Ok(Ok(cutoff)) => reply(&ObjectAnswer::Raised(cutoff)),
                        Ok(Err(why)) => Response::error(why, 503),
                        Err(e) => Response::error(e.to_string(), 503),
                    }
                }
            }
        }

        async fn alarm(&self) -> worker::Result<Response> {
            let storage = self.state.storage();
            let sql = storage.sql();
            if revlog::is_log(&sql) {
                return revlog::alarm(&storage, &sql, &self.env).await;
            }
            sessions::alarm(storage, &runtime::config(&self.env)).await
        }
    }
}
