fn main() {
    if let Err(e) = dyngen::Builder::new().schema("schema.yaml").generate() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
