//! The `offer-holder` binary: mesocosm's CLI with the example registered, so
//! `offer-holder run <file>` runs scenario files that name it.
fn main() -> std::process::ExitCode {
    mesocosm::cli::main_with(offer_holder::plugin::registry())
}
