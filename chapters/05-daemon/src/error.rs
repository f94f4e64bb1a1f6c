//! The errors of the API, and the HTTP status each one is answered with.
//!
//! Docker clients decide what to do from the status code alone: the CLI pulls
//! an image when `create` answers 404, treats 409 as "you asked for something
//! the state does not allow", and prints `Error response from daemon:` followed
//! by the `message` of the JSON body for everything else. So every failure the
//! services can report is one of a handful of kinds, and each kind has exactly
//! one status.
//!
//! The errors of the chapters below (02's store, 03's runtime, 04's
//! registry client) become these kinds here and nowhere else: the `From`
//! conversions at the end of this file are the one place where a status
//! is chosen for each of their variants, so a handler never looks inside a
//! message to decide.

use hyper::StatusCode;

// ANCHOR: api_error
/// A failure that the daemon answers with a status code and
/// `{"message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request itself is wrong: bad JSON, a bad query value, an invalid
    /// name. Answered with 400.
    #[error("{0}")]
    BadParameter(String),
    /// The container, image or exec instance does not exist. Answered with 404.
    #[error("{0}")]
    NotFound(String),
    /// A registry refused the credentials. Answered with 401.
    #[error("{0}")]
    Unauthorized(String),
    /// The object exists but its state forbids the operation (remove a running
    /// container, a name already in use). Answered with 409.
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than the daemon accepts. Answered with 413.
    #[error("{0}")]
    TooLarge(String),
    /// The daemon knows the endpoint but does not implement this variant of
    /// it. Answered with 501.
    #[error("{0}")]
    NotImplemented(String),
    /// Anything else: a failed syscall, a broken store. Answered with 500.
    #[error("{0}")]
    Internal(String),
}
// ANCHOR_END: api_error

impl ApiError {
    // ANCHOR: status
    /// The HTTP status Docker answers this kind of error with.
    pub fn status(&self) -> StatusCode {
        // exercise 5.3 error-status: map each kind of error to the status code Docker answers it with.
        // hint: 400 BAD_REQUEST, 401 UNAUTHORIZED, 404 NOT_FOUND, 409 CONFLICT, 413 PAYLOAD_TOO_LARGE, 501, 500
        // hint: clients act on the code: the docker CLI pulls the image when create answers 404
        match self {
            ApiError::BadParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
        // end exercise
    }
    // ANCHOR_END: status

    /// The message clients print after `Error response from daemon: `.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadParameter(m)
            | ApiError::NotFound(m)
            | ApiError::Unauthorized(m)
            | ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::NotImplemented(m)
            | ApiError::Internal(m) => m,
        }
    }

    /// The body Docker sends with an error status: `{"message":"..."}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "message": self.message() }).to_string()
    }

    /// Docker's wording for a missing container.
    pub fn no_such_container(id: &str) -> ApiError {
        ApiError::NotFound(format!("No such container: {id}"))
    }

    /// Docker's wording for a missing image; the docker CLI pulls on exactly
    /// this 404 when it creates a container.
    pub fn no_such_image(name: &str) -> ApiError {
        ApiError::NotFound(format!("No such image: {name}"))
    }

    /// Docker's wording for a missing exec instance.
    pub fn no_such_exec(id: &str) -> ApiError {
        ApiError::NotFound(format!("No such exec instance: {id}"))
    }

    /// Docker's wording for an operation that needs a running container.
    pub fn not_running(id: &str) -> ApiError {
        ApiError::Conflict(format!("Container {id} is not running"))
    }

    /// Turns any displayable failure into a 500 with its text.
    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(err.to_string())
    }
}

/// A shorter name for the results of the services.
pub type ApiResult<T> = Result<T, ApiError>;

// ANCHOR: from_lifecycle
/// Chapter 03's errors: what the client got wrong is a 400, what the
/// container's state forbids a 409, what is missing a 404.
impl From<minidock_lifecycle::Error> for ApiError {
    fn from(err: minidock_lifecycle::Error) -> ApiError {
        use minidock_lifecycle::Error as E;
        match err {
            E::NoSuchContainer(id) => ApiError::no_such_container(&id),
            E::NameInUse { name, id } => ApiError::Conflict(format!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". \
                 You have to remove (or rename) that container to be able to reuse that name."
            )),
            E::Transition(t) => ApiError::Conflict(t.to_string()),
            E::Image(err) => ApiError::from(err),
            E::Paused { op, id } => ApiError::Conflict(format!(
                "Container {id} is paused, unpause the container before {op}"
            )),
            // The previous run's shim still lives (a restart policy
            // between two runs): the container's state forbids a start.
            E::ShimRunning { .. } => ApiError::Conflict(err.to_string()),
            E::ExecEmpty => ApiError::BadParameter("No exec command specified".to_string()),
            // The container's process could not start (no such executable,
            // permission denied): Docker answers 400, and its CLI picks
            // its exit code (127, 126) from this message.
            E::Start { .. } | E::InvalidWorkingDir(_) => ApiError::BadParameter(err.to_string()),
            E::InvalidId(_)
            | E::InvalidName(_)
            | E::SameName(_)
            | E::Ambiguous(_)
            | E::NoCommand { .. }
            | E::InvalidBind { .. }
            | E::InvalidHostConfig(_)
            | E::InvalidRestartPolicy { .. }
            | E::User(_)
            | E::InvalidSignal(_)
            | E::Time(_) => ApiError::BadParameter(err.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
// ANCHOR_END: from_lifecycle

// ANCHOR: from_images
/// Chapter 02's errors: a missing image is Docker's 404 (on which the
/// docker CLI pulls), a bad name or archive a 400.
impl From<minidock_images::Error> for ApiError {
    fn from(err: minidock_images::Error) -> ApiError {
        use minidock_images::Error as E;
        match err {
            E::NoSuchImage(name) => ApiError::no_such_image(&name),
            E::InvalidReference { .. } | E::InvalidDigest { .. } => {
                ApiError::BadParameter(err.to_string())
            }
            E::Conflict(message) => ApiError::Conflict(format!("conflict: {message}")),
            E::BadArchive { .. }
            | E::BadManifest { .. }
            | E::UnsafeEntry { .. }
            | E::BadLayer { .. } => ApiError::BadParameter(err.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
// ANCHOR_END: from_images

// ANCHOR: from_registry
/// Chapter 04's errors: "not there" and "not allowed" are a 404, as Docker
/// answers `pull access denied`; a login the registry refused is a 401.
impl From<minidock_registry::RegistryError> for ApiError {
    fn from(err: minidock_registry::RegistryError) -> ApiError {
        use minidock_registry::RegistryError as E;
        match err {
            E::NotFound { .. } | E::Unauthorized { .. } | E::Denied { .. } => {
                ApiError::NotFound(err.to_string())
            }
            E::Invalid(_) => ApiError::BadParameter(err.to_string()),
            E::LoginFailed { .. } => ApiError::Unauthorized(err.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
// ANCHOR_END: from_registry
