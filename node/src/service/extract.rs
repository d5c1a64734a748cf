//! Free text to indicators (`POST /api/v1/extract`): the protocol crate's
//! extractor, with this node's region as the default for national phone
//! numbers. Reads nothing shared, so it is no consultation.

use std::sync::Arc;

use kawan_protocol::{
    Context, Country,
    extract::{Extraction, MAX_TEXT},
};

use super::{Caller, Service, ServiceError};
use crate::local::tokens::Role;

impl Service {
    /// The indicators in `text`, national phone numbers read in `region`
    /// (default: the node's).
    pub async fn extract(
        self: &Arc<Self>,
        caller: Caller,
        text: String,
        region: Option<Country>,
    ) -> Result<Extraction, ServiceError> {
        caller.require(Role::Analyst)?;
        if text.len() > MAX_TEXT {
            return Err(ServiceError::bad_request(
                "too_large",
                format!("text: {} bytes; at most {MAX_TEXT} per call", text.len()),
            ));
        }
        let ctx = Context { default_region: region.or(self.config().normalize.default_region) };
        self.run(move |_| Ok(kawan_protocol::extract::extract(&text, &ctx))).await
    }
}
