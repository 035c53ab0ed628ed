//! `honnin openapi`: prints the API's OpenAPI document (the one served at `/openapi.json`), so
//! clients (the TypeScript SDK's generated types) can be built without a running server.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

/// Prints the OpenAPI document as pretty JSON on stdout.
pub(crate) fn run() -> ExitCode {
    match serde_json::to_string_pretty(&honnin_api::openapi()) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot serialize the OpenAPI document: {error}");
            ExitCode::FAILURE
        }
    }
}
