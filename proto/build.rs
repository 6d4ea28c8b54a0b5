//! Compiles the `.proto` files with protox (a pure-Rust protoc), so building
//! mesocosm needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // compile_fds never sees paths, so declare the dependency ourselves.
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["mesocosm/rpc.proto"], ["proto"])?;
    // The descriptors themselves, so a trace's bytes can be decoded by message
    // name at run time (`mesocosm decode`) without protoc.
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("descriptors.bin"), prost::Message::encode_to_vec(&fds))?;
    // Spark's REST maps as BTreeMap: mesocosm iterates nothing in hash order.
    tonic_prost_build::configure().build_transport(true).btree_map(".spark.deploy.rest").compile_fds(fds)?;
    Ok(())
}
