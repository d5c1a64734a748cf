//! Tokens: who may call the node, and one-time web login links.

use std::sync::Arc;

use super::{Caller, LoginLink, Service, ServiceError};
use crate::{
    local::tokens::{Role, TokenInfo},
    policy::Path,
};

/// How long a login link stays good.
const LOGIN_LINK_MS: u64 = 5 * 60 * 1000;
/// Unused links kept at most, in all and per token; the oldest goes first,
/// and one token holder's links never push out another's.
const MAX_LOGIN_LINKS: usize = 1000;
const MAX_LOGIN_LINKS_PER_TOKEN: usize = 10;

impl Service {
    /// The caller a token names, arriving through `via`.
    pub async fn authenticate(self: &Arc<Self>, token: String, via: Path) -> Result<Caller, ServiceError> {
        self.run(move |s| match s.data.tokens.check(&token)? {
            Some(info) => Ok(Caller { name: info.name, role: info.role, via, purpose: None }),
            None => Err(ServiceError::unauthorized("unknown or revoked token")),
        })
        .await
    }

    /// A new token (operators); the secret is returned once, only its hash
    /// is kept.
    pub async fn create_token(
        self: &Arc<Self>,
        caller: Caller,
        name: String,
        role: &str,
    ) -> Result<(String, TokenInfo), ServiceError> {
        caller.require(Role::Operator)?;
        let role: Role = role.parse().map_err(|e: String| ServiceError::bad_request("invalid_value", e))?;
        self.run(move |s| {
            let what = format!("{name} {}", role.as_str());
            s.audited(&caller, "token.create", &what, || Ok(s.data.tokens.create(&name, role)?), |_| what.clone())
        })
        .await
    }

    pub async fn tokens(self: &Arc<Self>, caller: Caller) -> Result<Vec<TokenInfo>, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            let tokens = s.data.tokens.list()?;
            s.audit_read(&caller, "token.list", "")?;
            Ok(tokens)
        })
        .await
    }

    pub async fn revoke_token(self: &Arc<Self>, caller: Caller, name: String) -> Result<(), ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            s.audited(&caller, "token.revoke", &name, || Ok(s.data.tokens.revoke(&name)?), |_| name.clone())
        })
        .await
    }

    /// A code that logs a browser in once, within five minutes, as the
    /// caller's token.
    pub async fn create_login_link(self: &Arc<Self>, caller: Caller, token: String) -> Result<String, ServiceError> {
        let mut code = [0u8; 16];
        getrandom::fill(&mut code).map_err(ServiceError::internal)?;
        let code = hex::encode(code);
        let link = LoginLink { code: code.clone(), token, expires_ms: self.now_ms() + LOGIN_LINK_MS };
        self.run(move |s| {
            s.audit(&caller, "login_link.create", "")?;
            let mut links = s.login_links.lock().unwrap_or_else(|e| e.into_inner());
            let now = s.now_ms();
            links.retain(|l| l.expires_ms > now);
            let own = links.iter().filter(|l| l.token == link.token).count();
            if own >= MAX_LOGIN_LINKS_PER_TOKEN
                && let Some(oldest) = links.iter().position(|l| l.token == link.token)
            {
                links.remove(oldest);
            } else if links.len() >= MAX_LOGIN_LINKS {
                return Err(ServiceError::new(
                    crate::service::Fault::Conflict,
                    "too_many_login_links",
                    "too many unused login links; try again in five minutes",
                ));
            }
            links.push(link);
            Ok(())
        })
        .await?;
        Ok(code)
    }

    /// The token a login link stands for; the link is used up. Codes are
    /// compared in constant time.
    /// The name of the token a live login link would log in as (the link
    /// is not used up): the page asks before it logs anyone in.
    pub fn login_link_holder(&self, code: &str) -> Option<String> {
        let token = {
            let links = self.login_links.lock().unwrap_or_else(|e| e.into_inner());
            let now = self.now_ms();
            links.iter().find(|l| l.expires_ms > now && same(&l.code, code))?.token.clone()
        };
        self.data.tokens.check(&token).ok().flatten().map(|info| info.name)
    }

    pub fn redeem_login_link(&self, code: &str) -> Option<String> {
        let mut links = self.login_links.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.now_ms();
        links.retain(|l| l.expires_ms > now);
        let pos = links.iter().position(|l| same(&l.code, code))?;
        Some(links.remove(pos).token)
    }

    /// Starts a web session for a token (the login form, a login link);
    /// returns the session id for the cookie.
    pub async fn start_session(self: &Arc<Self>, token: String) -> Result<String, ServiceError> {
        let caller = self.authenticate(token.clone(), Path::Web).await?;
        if caller.role == Role::Auditor {
            return Err(ServiceError::forbidden(
                "forbidden",
                "an auditor token has no web page: it reads the oversight report over the API \
                 (kawan oversight report)",
            ));
        }
        self.run(move |s| {
            let id = s.data.sessions.create(&token)?;
            s.audit(&caller, "session.start", "")?;
            Ok(id)
        })
        .await
    }

    /// The caller of a live web session.
    pub async fn session(self: &Arc<Self>, id: String) -> Result<Caller, ServiceError> {
        self.run(move |s| match s.data.sessions.check(&id, &s.data.tokens)? {
            Some((info, purpose)) => {
                Ok(Caller { name: info.name, role: info.role, via: Path::Web, purpose: None }.with_purpose(purpose))
            }
            None => Err(ServiceError::unauthorized("no such session, or it expired")),
        })
        .await
    }

    /// States (or clears) the purpose of a web session: sticky until
    /// changed, logged with each consultation made in it. Audited.
    pub async fn set_session_purpose(
        self: &Arc<Self>,
        caller: Caller,
        id: String,
        purpose: Option<String>,
    ) -> Result<(), ServiceError> {
        let purpose = caller.clone().with_purpose(purpose).purpose;
        self.run(move |s| {
            s.data.sessions.set_purpose(&id, purpose.clone())?;
            s.audit(&caller, "session.purpose", purpose.as_deref().unwrap_or("(none)"))?;
            Ok(())
        })
        .await
    }

    /// Ends a web session on the server (logout).
    pub async fn end_session(self: &Arc<Self>, caller: Caller, id: String) -> Result<(), ServiceError> {
        self.run(move |s| {
            s.data.sessions.end(&id)?;
            s.audit(&caller, "session.end", "")?;
            Ok(())
        })
        .await
    }
}

/// Equality that takes the same time wherever two secrets differ: compares
/// their BLAKE3 hashes (`blake3::Hash` compares in constant time).
pub fn same(a: &str, b: &str) -> bool {
    blake3::hash(a.as_bytes()) == blake3::hash(b.as_bytes())
}
