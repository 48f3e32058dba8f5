fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("dyngen");
    if let Err(e) = dyngen::Builder::new()
        .schema("bench.yaml")
        .migrations_dir("bench-migrations")
        .out_dir(out)
        .generate()
    {
        panic!("{e}");
    }
}
