//! Spark's `RestSubmissionClient`: `spark-submit` talking to the dispatcher's
//! REST server, as an actor of its own (`spark-submit:<app>` for a
//! cluster-mode submit, `spark-submit:kill:<app>` / `spark-submit:status:<app>`
//! for `--kill` and `--status`).
//!
//! ```text
//!  create:  CreateSubmissionRequest ──▶ CreateSubmissionResponse
//!             success: "Submission successfully created as driver-…. Polling submission state..."
//!                      SubmissionStatusRequest ──▶ SubmissionStatusResponse, up to 10 tries 1 s apart,
//!                      "State of driver driver-… is now QUEUED.", then the create's response; exit 0
//!             refused: nothing more is printed; exit 0 (upstream reports only a successful create)
//!  kill / status: the request ──▶ its response, printed; exit 0
//!  connection refused, or no response within 10 s: "Unable to connect to server"; exit 1
//! ```
//!
//! Why 10 s: `readResponse` waits for the server's answer with
//! `Await.result(…, 10.seconds)` and turns a timeout into
//! `SubmitRestConnectionException("No response from server")`; a refused
//! connection (the dispatcher's process is down, its host resets the TCP
//! connect) is a `ConnectException`, the same exception at once. With one
//! master that is "all masters lost", so `createSubmission` (and kill,
//! status) throws `SubmitRestConnectionException("Unable to connect to
//! server")`, which ends spark-submit's JVM with status 1. mesocosm's world
//! refuses a REST request to an actor that is not running
//! ([`mesocosm_sim::Msg::needs_listener`]); a request or answer lost on the
//! network is the 10 s wait.

use super::submission::{
    CreateSubmissionRequest, CreateSubmissionResponse, KillSubmissionRequest, SPARK_VERSION, SubmissionStatusRequest,
    SubmissionStatusResponse,
};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `readResponse`'s wait for the server's answer.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// `REPORT_DRIVER_STATUS_INTERVAL` and `REPORT_DRIVER_STATUS_MAX_TRIES`.
pub const STATUS_POLL_INTERVAL: Duration = Duration::from_secs(1);
pub const STATUS_POLL_TRIES: u32 = 10;

/// The submission id each app's spark-submit was given (app name → id): what
/// a user copies from spark-submit's output into `--kill` or `--status`.
pub type SubmissionBook = Arc<Mutex<BTreeMap<String, String>>>;

/// What a spark-submit printed, shared with the report.
pub type Printed = Arc<Mutex<Vec<String>>>;

/// Change what `m` holds (a poisoned lock still holds the data).
fn locked<T, R>(m: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> R {
    f(&mut m.lock().unwrap_or_else(|p| p.into_inner()))
}

/// What one spark-submit asks.
#[derive(Clone, Debug, PartialEq)]
pub enum Ask {
    /// `--deploy-mode cluster`: submit the app.
    Create(Box<CreateSubmissionRequest>),
    /// `--kill <the app's submission id>`.
    Kill(String),
    /// `--status <the app's submission id>`.
    Status(String),
}

/// The client's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// The `n`th request's answer is overdue.
    NoResponse(u32),
    /// Poll the submission's status again.
    Poll,
}

/// One spark-submit process talking REST to the dispatcher.
#[derive(Debug)]
pub struct RestClient {
    app: String,
    ask: Ask,
    server: ActorId,
    /// The `--master` URL, as the client names it in what it prints.
    master_url: String,
    book: SubmissionBook,
    /// What it printed (its log lines), shared with the report.
    printed: Printed,
    /// Requests sent; the last one awaits an answer.
    sent: u32,
    waiting: bool,
    /// The create's answer and the status polls made after it.
    created: Option<CreateSubmissionResponse>,
    polls: u32,
}

impl RestClient {
    pub fn new(
        app: &str,
        ask: Ask,
        server: ActorId,
        master_url: &str,
        book: SubmissionBook,
        printed: Printed,
    ) -> RestClient {
        RestClient {
            app: app.to_string(),
            ask,
            server,
            master_url: master_url.to_string(),
            book,
            printed,
            sent: 0,
            waiting: false,
            created: None,
            polls: 0,
        }
    }

    fn print(&self, out: &mut Outbox<ClientTimer>, line: String) {
        out.note(format!("spark-submit prints: {line}"));
        locked(&self.printed, |p| p.push(line));
    }

    fn request(&mut self, out: &mut Outbox<ClientTimer>, msg: Msg) {
        self.sent += 1;
        self.waiting = true;
        out.send(&self.server, msg);
        out.set_timer(RESPONSE_TIMEOUT, ClientTimer::NoResponse(self.sent));
    }

    fn start(&mut self, out: &mut Outbox<ClientTimer>) {
        let url = self.master_url.clone();
        match self.ask.clone() {
            Ask::Create(mut req) => {
                self.print(out, format!("Submitting a request to launch an application in {url}."));
                req.action = "CreateSubmissionRequest".into();
                req.client_spark_version = SPARK_VERSION.into();
                self.request(out, Msg::from(*req));
            }
            Ask::Kill(id) => {
                self.print(out, format!("Submitting a request to kill submission {id} in {url}."));
                self.request(out, Msg::from(KillSubmissionRequest { submission_id: id }));
            }
            Ask::Status(id) => {
                self.status(out, id);
            }
        }
    }

    fn status(&mut self, out: &mut Outbox<ClientTimer>, id: String) {
        let url = &self.master_url;
        self.print(out, format!("Submitting a request for the status of submission {id} in {url}."));
        self.request(out, Msg::from(SubmissionStatusRequest { submission_id: id }));
    }

    /// `handleRestResponse`.
    fn responded(&self, out: &mut Outbox<ClientTimer>, msg: &Msg) {
        self.print(out, format!("Server responded with {}: {}", msg.kind(), msg.summary()));
    }

    /// `handleUnexpectedRestResponse`.
    fn unexpected(&self, out: &mut Outbox<ClientTimer>, msg: &Msg) {
        self.print(out, format!("Error: Server responded with message of unexpected type {}.", msg.kind()));
    }

    /// `pollSubmissionStatus` is done: the create's response is reported, and spark-submit returns.
    fn created_done(&mut self, out: &mut Outbox<ClientTimer>) {
        if let Some(c) = self.created.clone() {
            self.responded(out, &Msg::from(c));
        }
        out.exit(0);
    }

    fn on_answer(&mut self, out: &mut Outbox<ClientTimer>, msg: Msg) {
        if let Msg::RestErrorResponse(e) = &msg {
            // `readResponse` logs an ErrorResponse, then returns it as any response.
            self.print(out, format!("Server responded with error:\n{}", e.message));
        }
        match (&self.ask, self.created.is_some(), msg) {
            (Ask::Create(_), false, Msg::CreateSubmissionResponse(c)) => {
                let id = c.submission_id.clone().filter(|_| c.success == Some(true));
                let Some(id) = id else {
                    // Spark's `createSubmission` reports only a successful create:
                    // a refusal ends the loop over masters with nothing printed.
                    out.note("the server refused the submission; spark-submit returns without a word");
                    return out.exit(0);
                };
                self.print(out, format!("Submission successfully created as {id}. Polling submission state..."));
                locked(&self.book, |b| b.insert(self.app.clone(), id.clone()));
                self.created = Some(c);
                self.polls = 1;
                self.request(out, Msg::from(SubmissionStatusRequest { submission_id: id }));
            }
            (Ask::Create(_), true, Msg::SubmissionStatusResponse(s)) => {
                if s.success != Some(true) {
                    return self.poll_again(out, &Msg::SubmissionStatusResponse(s));
                }
                self.print_state(out, &s);
                self.created_done(out);
            }
            // Anything else while polling: "unexpected type, let upstream caller handle it".
            (Ask::Create(_), true, _) => self.created_done(out),
            (Ask::Kill(_), _, m @ Msg::KillSubmissionResponse(_)) => {
                self.responded(out, &m);
                out.exit(0);
            }
            (Ask::Status(_), _, Msg::SubmissionStatusResponse(s)) if s.success == Some(true) => {
                self.responded(out, &Msg::SubmissionStatusResponse(s));
                out.exit(0);
            }
            (_, _, m) => {
                self.unexpected(out, &m);
                out.exit(0);
            }
        }
    }

    /// A status the server did not recognise (yet): try again in 1 s, ten times in all.
    fn poll_again(&mut self, out: &mut Outbox<ClientTimer>, msg: &Msg) {
        self.unexpected(out, msg);
        if self.polls >= STATUS_POLL_TRIES {
            let id = self.created.as_ref().and_then(|c| c.submission_id.clone()).unwrap_or_default();
            self.print(out, format!("Error: Master did not recognize driver {id}."));
            return self.created_done(out);
        }
        out.set_timer(STATUS_POLL_INTERVAL, ClientTimer::Poll);
    }

    /// `handleConnectionException`: its one master is lost, so it throws and
    /// spark-submit's JVM exits 1.
    fn unreachable(&self, out: &mut Outbox<ClientTimer>, cause: &str) {
        self.print(out, format!("Unable to connect to server {}.", self.master_url));
        self.print(
            out,
            format!(
                "Exception in thread \"main\" org.apache.spark.deploy.rest.SubmitRestConnectionException: \
                 Unable to connect to server (caused by: {cause})"
            ),
        );
        out.exit(1);
    }

    fn print_state(&self, out: &mut Outbox<ClientTimer>, s: &SubmissionStatusResponse) {
        match &s.driver_state {
            Some(state) => self.print(out, format!("State of driver {} is now {state}.", s.submission_id)),
            None => self.print(out, format!("State of driver {} was not found!", s.submission_id)),
        }
        if let (Some(w), Some(hp)) = (&s.worker_id, &s.worker_host_port) {
            self.print(out, format!("Driver is running on worker {w} at {hp}."));
        }
        if let Some(m) = &s.message {
            self.print(out, m.clone());
        }
    }
}

impl Actor for RestClient {
    type Timer = ClientTimer;

    fn handle(&mut self, input: Input<ClientTimer>, out: &mut Outbox<ClientTimer>) {
        match input {
            Input::Start => self.start(out),
            Input::Message { from, msg } if from == self.server && self.waiting => {
                self.waiting = false;
                self.on_answer(out, msg);
            }
            Input::Message { from, msg } => {
                out.note(format!("{} from {from} answers no request of this client: ignored", msg.kind()))
            }
            // A dispatcher that is not running: its host refused the connection.
            Input::Refused { peer, .. } if peer == self.server && self.waiting => {
                self.waiting = false;
                self.unreachable(out, "Connect Exception when connect to server");
            }
            Input::Timer(ClientTimer::NoResponse(n)) if n == self.sent && self.waiting => {
                self.waiting = false;
                self.unreachable(out, "No response from server");
            }
            Input::Timer(ClientTimer::Poll) => {
                self.polls += 1;
                let id = self.created.as_ref().and_then(|c| c.submission_id.clone()).unwrap_or_default();
                self.request(out, Msg::from(SubmissionStatusRequest { submission_id: id }));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_sim::{Output, SimTime};

    fn client(ask: Ask) -> (RestClient, Printed) {
        let printed = Printed::default();
        let c = RestClient::new(
            "pi",
            ask,
            ActorId::new("scheduler:dispatcher"),
            "mesos://dispatcher:7077",
            SubmissionBook::default(),
            printed.clone(),
        );
        (c, printed)
    }

    fn sent(out: &[Output<ClientTimer>]) -> Vec<Msg> {
        mesocosm_sim::sent_to(out, "scheduler:dispatcher")
    }

    fn exit(out: &[Output<ClientTimer>]) -> Option<i32> {
        out.iter().find_map(|o| match o {
            Output::Exit { status } => Some(*status),
            _ => None,
        })
    }

    fn from_server(msg: impl Into<Msg>) -> Input<ClientTimer> {
        Input::Message { from: ActorId::new("scheduler:dispatcher"), msg: msg.into() }
    }

    #[test]
    fn a_create_polls_the_status_once_then_reports_and_exits_0() {
        let req =
            CreateSubmissionRequest { app_resource: "pi.jar".into(), main_class: "Pi".into(), ..Default::default() };
        let (mut c, printed) = client(Ask::Create(Box::new(req)));
        let out = c.step(SimTime(0), Input::Start);
        let Msg::CreateSubmissionRequest(r) = &sent(&out)[0] else { panic!("{out:?}") };
        assert_eq!((r.action.as_str(), r.client_spark_version.as_str()), ("CreateSubmissionRequest", SPARK_VERSION));
        let created = super::super::submission::create_response(true, Some("driver-1".into()), None);
        let out = c.step(SimTime(1), from_server(created));
        assert_eq!(sent(&out), [Msg::from(SubmissionStatusRequest { submission_id: "driver-1".into() })]);
        let status = SubmissionStatusResponse {
            submission_id: "driver-1".into(),
            success: Some(true),
            driver_state: Some("QUEUED".into()),
            ..Default::default()
        };
        let out = c.step(SimTime(2), from_server(status));
        assert_eq!(exit(&out), Some(0));
        let printed = locked(&printed, |p| p.clone());
        assert_eq!(printed[1], "Submission successfully created as driver-1. Polling submission state...");
        assert_eq!(printed[2], "State of driver driver-1 is now QUEUED.");
        assert!(printed[3].starts_with("Server responded with CreateSubmissionResponse: success=true driver-1"));
        assert_eq!(locked(&c.book, |b| b.get("pi").cloned()), Some("driver-1".into()));
    }

    #[test]
    fn no_answer_in_10_seconds_is_unable_to_connect_and_exit_1() {
        let (mut c, printed) = client(Ask::Kill("driver-1".into()));
        let out = c.step(SimTime(0), Input::Start);
        assert_eq!(sent(&out), [Msg::from(KillSubmissionRequest { submission_id: "driver-1".into() })]);
        let out = c.step(SimTime::from_secs(10), Input::Timer(ClientTimer::NoResponse(1)));
        assert_eq!(exit(&out), Some(1));
        assert_eq!(locked(&printed, |p| p[1].clone()), "Unable to connect to server mesos://dispatcher:7077.");
    }

    #[test]
    fn a_refused_connection_is_unable_to_connect_at_once() {
        let (mut c, printed) = client(Ask::Status("driver-1".into()));
        c.step(SimTime(0), Input::Start);
        let refused = Input::Refused {
            peer: ActorId::new("scheduler:dispatcher"),
            kind: "SubmissionStatusRequest",
            refusal: mesocosm_sim::Refusal::ConnectionRefused("scheduler:dispatcher is not running".into()),
        };
        let out = c.step(SimTime(1), refused);
        assert_eq!(exit(&out), Some(1));
        let last = locked(&printed, |p| p.last().cloned().unwrap());
        assert!(last.ends_with("Unable to connect to server (caused by: Connect Exception when connect to server)"));
        // Its 10 s timer, due later, finds nothing to wait for.
        let out = c.step(SimTime::from_secs(10), Input::Timer(ClientTimer::NoResponse(1)));
        assert_eq!(exit(&out), None);
    }

    #[test]
    fn a_refused_create_prints_nothing_more_and_exits_0() {
        let req =
            CreateSubmissionRequest { app_resource: "pi.jar".into(), main_class: "Pi".into(), ..Default::default() };
        let (mut c, printed) = client(Ask::Create(Box::new(req)));
        c.step(SimTime(0), Input::Start);
        let refused =
            super::super::submission::create_response(false, None, Some("Already reached maximum submission size"));
        let out = c.step(SimTime(1), from_server(refused));
        assert_eq!((exit(&out), sent(&out).len()), (Some(0), 0));
        assert_eq!(locked(&printed, |p| p.len()), 1);
    }
}
