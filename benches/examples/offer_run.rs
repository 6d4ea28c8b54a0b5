//! Run the offer workload once and print what it measured, for profiling:
//! `cargo run --release -p mesocosm-benches --example offer_run -- 1000 grpc 10`.

use mesocosm_benches::offer_run;
use mesocosm_sim::Transport;

fn main() {
    let mut args = std::env::args().skip(1);
    let agents = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let transport = match args.next().as_deref() {
        Some("memory") => Transport::Memory,
        _ => Transport::Grpc,
    };
    let secs = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let run = offer_run(agents, 10, transport, secs);
    println!(
        "agents={agents} transport={transport:?} virtual_secs={secs} offers_made={} accepted={} declined={} messages={}",
        run.master.offers_made, run.master.offers_accepted, run.master.offers_declined, run.messages
    );
}
