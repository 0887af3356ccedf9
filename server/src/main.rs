fn main() -> std::process::ExitCode {
    curfew_server::cli::main()
}
