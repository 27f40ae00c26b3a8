use std::process::ExitCode;

use clap::Parser;
use venue_access::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    venue_access::telemetry::init();
    match actix_web::rt::System::new().block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, no backtrace.
            let mut line = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !line.contains(&cause) {
                    line.push_str(": ");
                    line.push_str(&cause);
                }
            }
            eprintln!("error: {line}");
            ExitCode::FAILURE
        }
    }
}
