fn main() {
    std::process::exit(hybridtls::cli::main());
}
