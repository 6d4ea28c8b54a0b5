//! The criterion benches (`cargo bench --workspace --bench <name>`) and the
//! round-by-round examples. The workloads themselves live in
//! [`mesocosm::bench`], where `mesocosm bench` runs them too, so the two
//! measure the same code:
//!
//! - [`offer_run`]: offer churn, a real master and agents with minimal
//!   frameworks that answer every offer at once, over gRPC or in memory;
//! - [`DeclineOffers`]: the allocator alone, in the shape of Mesos's
//!   `DeclineOffers` benchmark (`src/tests/hierarchical_allocator_tests.cpp`).

/// The same global allocator as the `mesocosm` CLI's (its `src/main.rs` says
/// why), so a criterion bench, an example and `mesocosm bench` measure the same
/// program. Every bench and example links this library.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use mesocosm::bench::offers::{Answerer, OfferRun, offer_run};
pub use mesocosm::bench::{DeclineOffers, decline, measure};
