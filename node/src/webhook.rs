//! Alerts to the agency's own case system: each alert POSTed as JSON with
//! an HMAC-SHA256 signature of the body (`X-Kawan-Signature: sha256=<hex>`),
//! so the receiver can tell it came from this node. A delivery that fails
//! is retried with growing waits; one that never succeeds is kept as a dead
//! letter for operators. Nothing is sent anywhere else.

use std::{sync::Arc, time::Duration};

use hmac::{KeyInit, Mac};

use crate::{
    local::watch::{Alert, DeadLetter},
    service::Service,
};

/// Waits before each retry: the first attempt, then these.
pub const RETRY_WAITS: [Duration; 4] =
    [Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)];

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers every new alert while the node runs (a task of `kawan run`).
pub async fn deliver(svc: Arc<Service>, url: String, secret: String) {
    let mut alerts = svc.subscribe_alerts();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        let alert = match alerts.recv().await {
            Ok(a) => a,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::error!(missed = n, "webhook fell behind: alerts not delivered (they stay in /api/v1/alerts)");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        // Through the policy gate, as every way out of the node.
        let gated = {
            let svc = svc.clone();
            tokio::task::spawn_blocking(move || svc.alert_for_webhook(alert)).await
        };
        let alert = match gated {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                tracing::error!(error = %e.message, "an alert was not sent to the webhook: the gate could not decide");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "an alert was not sent to the webhook");
                continue;
            }
        };
        let mut attempts = 0;
        let mut error = String::new();
        for wait in std::iter::once(Duration::ZERO).chain(RETRY_WAITS) {
            tokio::time::sleep(wait).await;
            attempts += 1;
            match post(&agent, &url, &secret, &alert).await {
                Ok(()) => {
                    error.clear();
                    break;
                }
                Err(e) => error = e,
            }
        }
        if !error.is_empty() {
            tracing::warn!(alert = alert.id, %error, attempts, "webhook delivery failed: kept as a dead letter");
            let letter = DeadLetter { alert: alert.id, url: url.clone(), attempts, error, failed_ms: svc.now_ms() };
            let svc = svc.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = svc.data().watch.dead_letter(&letter) {
                    tracing::error!(error = %e, "cannot keep a dead letter");
                }
            })
            .await;
        }
    }
}

async fn post(agent: &ureq::Agent, url: &str, secret: &str, alert: &Alert) -> Result<(), String> {
    let body = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
    let (agent, url, sig, id) = (agent.clone(), url.to_string(), signature(secret, &body), alert.id.to_string());
    let status = tokio::task::spawn_blocking(move || {
        agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("X-Kawan-Signature", &sig)
            .header("X-Kawan-Alert", &id)
            .send(&body[..])
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    if (200..300).contains(&status) { Ok(()) } else { Err(format!("the case system answered {status}")) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
