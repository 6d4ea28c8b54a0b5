//! Compiles the `.proto` files with protox (a pure-Rust protoc), so building
//! mesocosm needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // compile_fds never sees paths, so declare the dependency ourselves.
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["mesocosm/rpc.proto"], ["proto"])?;
    tonic_prost_build::configure().build_transport(true).compile_fds(fds)?;
    Ok(())
}
