//! The `ghpkg` command. Everything but the exit lives in the `ghpkg_cli` library.

fn main() -> std::process::ExitCode {
    ghpkg_cli::main()
}
