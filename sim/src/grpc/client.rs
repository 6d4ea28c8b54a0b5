//! The client end of a connection: tonic's generated clients call h2's own
//! request handle ([`Conn`]), with no hyper client in between; a response
//! body is read from h2's stream ([`Incoming`]).

use super::FROM;
use super::body::{Incoming, broken};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::Bytes;
use tonic::codegen::http;

/// The client end of one HTTP/2 connection, as the tower service tonic's
/// generated clients call through: h2's own request handle, with no hyper
/// client in between. hyper's client adds, per connection, a request queue
/// (a tokio mpsc block of 32 envelopes), a second task and a drop-watching
/// channel, and per call a spawned task that pipes the request body; a unary
/// request's body is one DATA frame that h2 buffers at once (see [`send_body`]).
///
/// A connection is dialled by one link, so it names its sender itself: every
/// request it sends carries the `libprocess-from` header built once at dial
/// time (percent-encoding a name and checking it as a header value per
/// message was measurable), as libprocess names the sending process on every
/// message it writes to its socket.
#[derive(Clone)]
pub(super) struct Conn {
    pub(super) send: h2::client::SendRequest<Bytes>,
    pub(super) from: Option<http::HeaderValue>,
}

type ConnFuture = Pin<Box<dyn Future<Output = Result<http::Response<Incoming>, Status>> + Send>>;

impl tower::Service<http::Request<Body>> for Conn {
    type Response = http::Response<Incoming>;
    type Error = Status;
    type Future = ConnFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        self.send.poll_ready(cx).map_err(broken)
    }

    fn call(&mut self, req: http::Request<Body>) -> ConnFuture {
        let (mut parts, body) = req.into_parts();
        if let Some(from) = &self.from {
            parts.headers.insert(FROM, from.clone());
        }
        // HEADERS now, on the handle `poll_ready` readied (h2 keeps a stream
        // waiting for a concurrency slot in it); DATA and the response below.
        let sent = self.send.send_request(http::Request::from_parts(parts, ()), false);
        Box::pin(async move {
            let (response, stream) = sent.map_err(broken)?;
            send_body(body, stream).await?;
            Ok(response.await.map_err(broken)?.map(Incoming::new))
        })
    }
}

/// A request body into its stream: every frame is handed to h2 at once, which
/// queues DATA beyond the peer's window and sends it as the window opens (a
/// message is already whole in memory, so waiting for capacity here would only
/// add a round trip); the stream ends with the body.
async fn send_body(body: Body, mut stream: h2::SendStream<Bytes>) -> Result<(), Status> {
    let mut body = std::pin::pin!(body);
    while let Some(frame) = std::future::poll_fn(|cx| http_body::Body::poll_frame(body.as_mut(), cx)).await {
        match frame?.into_data() {
            Ok(data) => stream.send_data(data, false).map_err(broken)?,
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    return stream.send_trailers(trailers).map_err(broken);
                }
            }
        }
    }
    stream.send_data(Bytes::new(), true).map_err(broken)
}
