//! How a command fails: a message in Docker's words and an exit code with
//! Docker's meaning.
//!
//! The docker CLI's exit codes are an interface that scripts rely on:
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success, or the container's own exit code |
//! | 1    | a command other than `run` failed |
//! | 125  | `run`/`create` failed before the container ran, or bad flags |
//! | 126  | the container's command cannot be invoked (permission denied) |
//! | 127  | the container's command was not found |
//!
//! Errors from the daemon print as `Error response from daemon: …`, errors
//! of the client itself as `minidock: …`.

use minidock_client::ClientError;
use std::fmt;

/// A failed command: what to print (if anything) and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The process exit code.
    pub code: i32,
    /// The text for stderr; empty for a silent exit (the container's code).
    pub message: String,
}

impl Failure {
    /// A failure with a message and code 1.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// A usage error of the client (`minidock: …`), code 125 like a bad flag.
    pub fn usage(message: impl fmt::Display) -> Failure {
        Failure {
            code: 125,
            message: format!("minidock: {message}"),
        }
    }

    /// An exit with `code` and nothing printed.
    pub fn exit(code: i32) -> Failure {
        Failure {
            code,
            message: String::new(),
        }
    }

    /// The same message with another exit code.
    pub fn with_code(self, code: i32) -> Failure {
        Failure { code, ..self }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the user reads for a client error, in the docker CLI's words.
pub fn describe(error: &ClientError) -> String {
    match error {
        ClientError::Connect { address, .. } => {
            format!("Cannot connect to the minidock daemon at {address}. Is minidockd running?")
        }
        ClientError::Api { message, .. } => format!("Error response from daemon: {message}"),
        other => other.to_string(),
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        Failure::new(describe(&error))
    }
}

// ANCHOR: start_failure_code
/// The exit code `docker run` uses when the daemon refuses to start the
/// container: 127 when the command does not exist, 126 when it cannot be
/// executed, 125 otherwise (the rule of the docker CLI's
/// `runStartContainerErr`, which reads the daemon's message).
pub fn start_failure_code(message: &str) -> i32 {
    let message = message.trim_start_matches("Error response from daemon: ");
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("No such file or directory")
    {
        127
    } else if message.contains("permission denied") || message.contains("is a directory") {
        126
    } else {
        125
    }
}
// ANCHOR_END: start_failure_code

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_errors_read_like_dockers() {
        let api = ClientError::Api {
            status: 404,
            message: "No such container: web".into(),
        };
        assert_eq!(
            describe(&api),
            "Error response from daemon: No such container: web"
        );
        let connect = ClientError::Connect {
            address: "unix:///run/minidock/minidock.sock".to_string(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            describe(&connect),
            "Cannot connect to the minidock daemon at unix:///run/minidock/minidock.sock. Is minidockd running?"
        );
        assert_eq!(Failure::from(api).code, 1);
    }

    #[test]
    fn start_errors_map_to_dockers_codes() {
        let not_found = "exec: \"nosuch\": executable file not found in $PATH (/nosuch)";
        assert_eq!(start_failure_code(not_found), 127);
        assert_eq!(
            start_failure_code("Error response from daemon: exec /etc: permission denied"),
            126
        );
        assert_eq!(
            start_failure_code("exec /etc/passwd: permission denied: the file is not executable"),
            126
        );
        assert_eq!(start_failure_code("cgroup: out of memory"), 125);
    }
}
