//! The server end of a connection: h2's own server connection, driven by one
//! task that accepts the client's streams and answers each with the world's
//! tonic router ([`serve`]).
//!
//! What a server end does, for each request the client opens a stream with:
//!
//! 1. **accept** it (`poll_accept`, which also reads and writes the pipe);
//! 2. **tag** it with the actor the connection was dialled to ([`Receiver`])
//!    and the sender its `libprocess-from` header names ([`Sender`], decoded
//!    once per connection by [`Known`]), as libprocess routes a message by
//!    the process id in its path;
//! 3. **call** the router, whose future lands the message in the receiver's
//!    mailbox and resolves to the response: at once for a one-way message, once
//!    the receiver's core has answered for a scheduler Call or an ask;
//! 4. **send** the response's HEADERS, then its body as DATA frames and its
//!    trailers (`grpc-status`), on the same stream. A SUBSCRIBE's body is the
//!    subscription's event stream: it stays here, one DATA frame per event,
//!    until the event channel closes or the subscriber resets the stream.
//!
//! ```text
//!  pipe ─▶ poll_accept ─▶ request ─▶ Routes::call ─▶ response ─▶ HEADERS, DATA…, trailers ─▶ pipe
//!              ▲                       (Answer: polled by the connection's own task)     │
//!              └───────────────────── one task per connection ◀───────────────────────────┘
//! ```
//!
//! Why not hyper's server: it spawns a task per stream (every one-way
//! message a `tokio::spawn`, its wake-ups and a task header), adds a `date`
//! header read from the wall clock to every response, and wraps the router in
//! its own service adapters. Here a connection's requests are few at a time
//! (a link sends one call at a time; asks and a subscription add a stream
//! each), so its one task polls them all in the order they arrived, and a
//! one-way message is landed and answered in the same poll that accepted it.
//!
//! A stream the client resets (its caller went away: the call's future was
//! dropped, a subscriber exited) drops its answer at once, as hyper did: a
//! pending ask or Call is never answered, and a subscription's event channel
//! closes, which is how the next event's sender learns the subscriber is gone.
//! A connection that breaks or closes ends the task and every answer with it.

use super::body::Incoming;
use super::{FROM, MAX_HEADER_LIST, WINDOW, decode_name};
use crate::actor::ActorId;
use http_body::Body as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::DuplexStream;
use tonic::body::Body;
use tonic::codegen::Bytes;
use tonic::codegen::http;
use tonic::service::Routes;

/// What hyper's server asked of h2 by default, kept so that a connection
/// takes the same streams and buffers the same bytes as before.
const MAX_CONCURRENT_STREAMS: u32 = 200;
const MAX_SEND_BUFFER: usize = 400 << 10;
const MAX_LOCAL_ERROR_RESETS: usize = 1024;

/// Where a request was dialled to: the actor whose mailbox it lands in.
#[derive(Clone)]
pub(super) struct Receiver(pub(super) ActorId);

/// The sender a request's `libprocess-from` header names, decoded by its
/// connection (see [`Known`]).
#[derive(Clone)]
pub(super) struct Sender(pub(super) ActorId);

/// The sender a connection's first request named, and the header value that
/// named it. A connection is dialled by one link, so every later request
/// carries the same bytes: comparing them is all it takes to know the sender,
/// instead of percent-decoding the name again for every message. A request
/// naming anyone else is left to the router to decode in full.
#[derive(Default)]
struct Known(Option<(http::HeaderValue, ActorId)>);

impl Known {
    fn sender(&mut self, headers: &http::HeaderMap) -> Option<ActorId> {
        let value = headers.get(FROM)?;
        if let Some((known, id)) = &self.0 {
            return (known == value).then(|| id.clone());
        }
        let id = ActorId::new(decode_name(value.to_str().ok()?)?);
        Some(self.0.insert((value.clone(), id)).1.clone())
    }
}

type Call = <Routes as tower::Service<http::Request<Incoming>>>::Future;

/// Serve one connection's server end on `io` until the client lets go or the
/// pipe breaks: every request is answered by `routes`, tagged as dialled to
/// `receiver`.
pub(super) async fn serve(io: DuplexStream, routes: Routes, receiver: ActorId) {
    let handshake = h2::server::Builder::new()
        .initial_window_size(WINDOW)
        .initial_connection_window_size(WINDOW)
        .max_header_list_size(MAX_HEADER_LIST)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .max_send_buffer_size(MAX_SEND_BUFFER)
        .max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESETS))
        .handshake::<_, Bytes>(io);
    let mut end = match handshake.await {
        Ok(conn) => {
            ServerEnd { conn, routes, receiver: Receiver(receiver), known: Known::default(), answers: Vec::new() }
        }
        Err(e) => return tracing::debug!(error = %e, "server connection ended"),
    };
    if let Err(e) = std::future::poll_fn(|cx| end.poll(cx)).await {
        tracing::debug!(error = %e, "server connection ended");
    }
}

/// One connection's server end: h2's connection and the answers in progress
/// on it, oldest first.
struct ServerEnd {
    conn: h2::server::Connection<DuplexStream, Bytes>,
    routes: Routes,
    receiver: Receiver,
    known: Known,
    answers: Vec<Answer>,
}

impl ServerEnd {
    /// Drive the connection and its answers; ready when the connection has
    /// closed (the client let go) or broke.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), h2::Error>> {
        loop {
            let mut moved = false;
            // New streams first (this also flushes what the answers queued);
            // each is answered as far as it can be at once.
            while let Poll::Ready(accepted) = self.conn.poll_accept(cx) {
                let Some(accepted) = accepted else { return Poll::Ready(Ok(())) };
                let (request, reply) = accepted?;
                let mut answer = self.answer(request, reply);
                if answer.poll(cx).is_pending() {
                    self.answers.push(answer);
                }
                moved = true;
            }
            // Then the answers woken since (or not: polling a pending answer
            // is cheap, and a connection has few), in the order they arrived.
            let before = self.answers.len();
            self.answers.retain_mut(|a| a.poll(cx).is_pending());
            // Something accepted or finished: what it queued goes out now,
            // rather than on a wake-up of our own task.
            if !moved && self.answers.len() == before {
                return Poll::Pending;
            }
        }
    }

    /// A request, tagged with its receiver and sender, handed to the router.
    fn answer(&mut self, request: http::Request<h2::RecvStream>, reply: h2::server::SendResponse<Bytes>) -> Answer {
        let (mut parts, body) = request.into_parts();
        if let Some(from) = self.known.sender(&parts.headers) {
            parts.extensions.insert(Sender(from));
        }
        parts.extensions.insert(self.receiver.clone());
        // The router is always ready (axum's `poll_ready` is); hyper's
        // service adapter called it without asking, too.
        let call = tower::Service::call(&mut self.routes, http::Request::from_parts(parts, Incoming::new(body)));
        Answer { reply, state: Answering::Calling(Box::pin(call)) }
    }
}

/// One request's answer in progress on its stream.
struct Answer {
    reply: h2::server::SendResponse<Bytes>,
    state: Answering,
}

enum Answering {
    /// The router is answering: a scheduler Call or an ask waits here for the
    /// receiver's core.
    Calling(Pin<Box<Call>>),
    /// The response's HEADERS are sent; its body follows.
    Sending(h2::SendStream<Bytes>, Body),
}

impl Answer {
    /// Ready once the answer is whole, or the stream is gone (reset by the
    /// client, or the connection broke): either way, done with.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let response = match &mut self.state {
            Answering::Sending(send, body) => return pipe(send, body, cx),
            Answering::Calling(call) => match call.as_mut().poll(cx) {
                Poll::Ready(Ok(response)) => response,
                Poll::Ready(Err(never)) => match never {},
                // Its caller went away (RST_STREAM) or the connection broke:
                // the call is dropped unanswered, as hyper's server did.
                Poll::Pending => return self.reply.poll_reset(cx).map(drop),
            },
        };
        let (mut head, body) = response.into_parts();
        if body.is_end_stream() {
            // A status alone (an error's trailers-only response): HEADERS ends the stream.
            if let Err(e) = self.reply.send_response(http::Response::from_parts(head, ()), true) {
                self.refuse(e);
            }
            return Poll::Ready(());
        }
        // As hyper did; tonic's bodies have no exact size, so this adds nothing today.
        if let Some(len) = body.size_hint().exact() {
            head.headers.entry(http::header::CONTENT_LENGTH).or_insert(len.into());
        }
        match self.reply.send_response(http::Response::from_parts(head, ()), false) {
            Ok(send) => {
                self.state = Answering::Sending(send, body);
                self.poll(cx)
            }
            Err(e) => {
                self.refuse(e);
                Poll::Ready(())
            }
        }
    }

    /// The response could not be sent (the stream is gone): reset it, as hyper did.
    fn refuse(&mut self, e: h2::Error) {
        tracing::debug!(error = %e, "send response error");
        self.reply.send_reset(h2::Reason::INTERNAL_ERROR);
    }
}

/// A response body into its stream until it ends: every DATA frame is handed
/// to h2 at once, which queues it beyond the client's window and sends it as
/// the window opens (a message is already whole in memory, and hyper's server
/// sent a whole chunk once any capacity was there: the same bytes, in the
/// same order); then the trailers, or an empty DATA frame that ends the stream.
fn pipe(send: &mut h2::SendStream<Bytes>, body: &mut Body, cx: &mut Context<'_>) -> Poll<()> {
    loop {
        // Reset by the client (a subscriber that went away), or a broken
        // connection: stop, dropping the body; a subscription's event channel
        // closes with it. Checked before every frame, as hyper did.
        if send.poll_reset(cx).is_ready() {
            return Poll::Ready(());
        }
        let Some(frame) = std::task::ready!(Pin::new(&mut *body).poll_frame(cx)) else {
            let _ = send.send_data(Bytes::new(), true);
            return Poll::Ready(());
        };
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                tracing::debug!(error = %e, "response body error");
                send.send_reset(h2::Reason::INTERNAL_ERROR);
                return Poll::Ready(());
            }
        };
        match frame.into_data() {
            Ok(data) => {
                let end = body.is_end_stream();
                if send.send_data(data, end).is_err() || end {
                    return Poll::Ready(());
                }
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    let _ = send.send_trailers(trailers);
                    return Poll::Ready(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::encode_name;

    fn from(name: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(FROM, http::HeaderValue::from_str(&encode_name(name)).expect("encoded names are ASCII"));
        headers
    }

    /// The first request's sender is decoded and kept; the same bytes again
    /// name the same sender, and other bytes are left to the router (whose
    /// `sender` decodes them in full), so a stray name is never mistaken for
    /// the connection's.
    #[test]
    fn a_connection_decodes_its_sender_once_and_leaves_strangers_to_the_router() {
        let mut known = Known::default();
        assert_eq!(known.sender(&http::HeaderMap::new()), None, "no header, no sender");
        assert_eq!(known.sender(&from("agent 7/é")), Some(ActorId::new("agent 7/é")));
        assert_eq!(known.sender(&from("agent 7/é")), Some(ActorId::new("agent 7/é")));
        assert_eq!(known.sender(&from("master")), None);
        let mut malformed = http::HeaderMap::new();
        malformed.insert(FROM, http::HeaderValue::from_static("bad%zz"));
        assert_eq!(Known::default().sender(&malformed), None, "a malformed name is not kept");
    }
}
