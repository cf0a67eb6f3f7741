//! The Durable Object class `WardenSessions` (binding `WARDEN_SESSIONS`): reads one
//! [`ObjectRequest`] and hands it to the subject cutoffs (`sub:<sub>` objects,
//! [`crate::subject`]) or the sessions (`sid:<sid>`, `rt:<hash>`, [`crate::sessions`]), with the
//! isolate's configuration ([`crate::runtime::config`]).

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
    use crate::{runtime, subject};

    /// Keeps one subject's cutoff monotonic (object name `sub:<sub>`), and serialises the
    /// refreshes of one session (`sid:<sid>`, `rt:<hash>`).
    #[durable_object]
    pub struct WardenSessions {
        state: State,
        env: Env,
        /// The cutoff this instance last wrote to KV (0: none yet).
        written: Rc<Cell<UnixTime>>,
        /// A session object's memory (in-flight refresh, replay pair).
        memory: Rc<Memory>,
    }

    fn answer(done: worker::Result<ObjectAnswer>) -> worker::Result<Response> {
        match done {
            Ok(answer) => Response::from_json(&answer),
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
            }
        }

        async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
            if req.method() != Method::Post {
                return Response::error("not found", 404);
            }
            let Ok(request) = req.json::<ObjectRequest>().await else {
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
                    Response::from_json(&ObjectAnswer::Refreshed(refreshed))
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
                        Ok(Ok(cutoff)) => Response::from_json(&ObjectAnswer::Raised(cutoff)),
                        Ok(Err(why)) => Response::error(why, 503),
                        Err(e) => Response::error(e.to_string(), 503),
                    }
                }
            }
        }

        async fn alarm(&self) -> worker::Result<Response> {
            sessions::alarm(self.state.storage(), &runtime::config(&self.env)).await
        }
    }
}
