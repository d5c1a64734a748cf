//! The service's one error type. Each failure names whose fault it was
//! (`Fault`) and carries a stable code and a message for people; adapters
//! turn the fault into an HTTP status, a TAXII error or a web page.

use crate::{
    local::audit::AuditError,
    local::cases::CaseError,
    local::tokens::TokenError,
    store::{PublishError, StoreError},
};

/// Whose fault a failure was, and so how an adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request itself is malformed (an unparsable id, a bad field).
    BadRequest,
    /// Well-formed, but refused by a rule (an invalid value, TLP RED).
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    UnsupportedMediaType,
    /// Ours (disk, a panicked worker): logged, reported without internals.
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub fault: Fault,
    /// Stable and machine-readable: `invalid_value`, `not_found`, `forbidden`…
    pub code: &'static str,
    pub message: String,
    /// Which field was wrong, and similar structured help.
    pub details: Option<serde_json::Value>,
}

impl ServiceError {
    pub fn new(fault: Fault, code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError { fault, code, message: message.into(), details: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> ServiceError {
        self.details = Some(details);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::new(Fault::BadRequest, code, message)
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::new(Fault::Invalid, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ServiceError {
        ServiceError::new(Fault::NotFound, "not_found", message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::new(Fault::Forbidden, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ServiceError {
        ServiceError::new(Fault::Unauthorized, "unauthorized", message)
    }

    /// A bad value of a named field.
    pub fn field(field: &'static str, message: impl std::fmt::Display) -> ServiceError {
        ServiceError::bad_request("invalid_value", format!("{field}: {message}"))
            .with_details(serde_json::json!({ "field": field }))
    }

    /// Logs the cause; clients see only that it was ours.
    pub fn internal(err: impl std::fmt::Display) -> ServiceError {
        tracing::error!(error = %err, "internal error");
        ServiceError::new(Fault::Internal, "internal", "internal error; see the node's log")
    }

    /// Parses a field, naming it in the error.
    pub fn parse<T: std::str::FromStr>(field: &'static str, s: &str) -> Result<T, ServiceError>
    where
        T::Err: std::fmt::Display,
    {
        s.parse().map_err(|e: T::Err| ServiceError::field(field, e))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::internal(e)
    }
}

impl From<crate::metrics::MetricsError> for ServiceError {
    fn from(e: crate::metrics::MetricsError) -> Self {
        ServiceError::internal(e)
    }
}

impl From<AuditError> for ServiceError {
    fn from(e: AuditError) -> Self {
        ServiceError::internal(e)
    }
}

impl From<CaseError> for ServiceError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotFound(_) => ServiceError::not_found(e.to_string()),
            CaseError::Empty(_) => ServiceError::invalid("invalid_value", e.to_string()),
            other => ServiceError::internal(other),
        }
    }
}

impl From<crate::local::sessions::SessionError> for ServiceError {
    fn from(e: crate::local::sessions::SessionError) -> Self {
        ServiceError::internal(e)
    }
}

impl From<TokenError> for ServiceError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Exists(_) => ServiceError::new(Fault::Conflict, "exists", e.to_string()),
            TokenError::NotFound(_) => ServiceError::not_found(e.to_string()),
            TokenError::BadName => ServiceError::invalid("invalid_value", e.to_string()),
            other => ServiceError::internal(other),
        }
    }
}

impl From<PublishError> for ServiceError {
    fn from(e: PublishError) -> Self {
        use PublishError as P;
        match e {
            P::Invalid(e) => ServiceError::invalid("invalid_record", e.to_string()),
            P::Red => ServiceError::invalid("tlp_red", e.to_string()),
            P::NeedsGroup(_) | P::NoGroupAllowed(_) => ServiceError::invalid("wrong_channel", e.to_string()),
            P::UnknownTarget(_) => ServiceError::not_found(e.to_string()),
            P::NotOwnTarget(_) => ServiceError::forbidden("not_author", e.to_string()),
            P::NotInGroup(_) => ServiceError::forbidden("not_in_group", e.to_string()),
            P::NotContent(_) => ServiceError::invalid("not_content", e.to_string()),
            P::MixedChannels => ServiceError::invalid("mixed_channels", e.to_string()),
            P::Ingest(e) => ServiceError::internal(e),
            P::Store(e) => ServiceError::internal(e),
        }
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(e: tokio::task::JoinError) -> Self {
        ServiceError::internal(format!("worker failed: {e}"))
    }
}
