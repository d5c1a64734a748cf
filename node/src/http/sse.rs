//! The live alert feed as server-sent events, shared by the REST stream
//! (`/api/v1/alerts/stream`) and the web page's (`/alerts/stream`): both
//! wrap [`Service::alert_stream`], which decides what the caller may see.

use std::{convert::Infallible, time::Duration};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt as _};

use crate::service::{AlertEvent, Caller, Service, ServiceError};

/// The caller's new alerts as `alert` events (JSON), and `lagged` when a
/// slow reader missed some (it reads them from `/api/v1/alerts`).
pub fn alerts(
    svc: &std::sync::Arc<Service>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ServiceError> {
    let events = svc.alert_stream(caller)?.map(|e| {
        Ok(match e {
            AlertEvent::Alert(alert) => Event::default()
                .event("alert")
                .id(alert.id.to_string())
                .json_data(&alert)
                .unwrap_or_else(|_| Event::default().event("alert").data("{}")),
            AlertEvent::Lagged(n) => Event::default().event("lagged").data(n.to_string()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
