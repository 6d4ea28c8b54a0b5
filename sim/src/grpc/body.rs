//! What both ends of a connection share: a body read from an h2 stream
//! ([`Incoming`]: a response at the client end, a request at the server end)
//! and what an HTTP/2 failure means as a gRPC status ([`broken`]).

use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::codegen::Bytes;

/// An HTTP/2 failure as the gRPC status hyper would have surfaced: a refused
/// or cancelled stream, or a connection that broke or went away (the peer's
/// end closed), is the peer going away (`UNAVAILABLE`, `CANCELLED`); a
/// protocol error stays an error the run fails with.
pub(super) fn broken(e: h2::Error) -> Status {
    let why = format!("h2: {e}");
    match e.reason() {
        Some(h2::Reason::CANCEL) => Status::cancelled(why),
        Some(h2::Reason::REFUSED_STREAM) => Status::unavailable(why),
        Some(h2::Reason::ENHANCE_YOUR_CALM) => Status::resource_exhausted(why),
        _ if e.is_io() || e.is_go_away() => Status::unavailable(why),
        _ => Status::internal(why),
    }
}

/// A body read from its h2 stream, handing the bytes read back to the
/// flow-control window (as hyper's `Incoming` does): DATA frames, then the
/// trailers (gRPC's `grpc-status` travels in a response's).
pub(super) struct Incoming {
    recv: h2::RecvStream,
    data_done: bool,
    done: bool,
}

impl Incoming {
    pub(super) fn new(recv: h2::RecvStream) -> Incoming {
        Incoming { recv, data_done: false, done: false }
    }
}

impl http_body::Body for Incoming {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Status>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if !self.data_done {
            match std::task::ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // Read: the peer may send as much again.
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(http_body::Frame::data(data))));
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(broken(e))));
                }
                None => self.data_done = true,
            }
        }
        let trailers = std::task::ready!(self.recv.poll_trailers(cx));
        self.done = true;
        match trailers {
            Ok(Some(trailers)) => Poll::Ready(Some(Ok(http_body::Frame::trailers(trailers)))),
            Ok(None) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(broken(e)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.recv.is_end_stream()
    }
}
