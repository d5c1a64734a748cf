//! The web page as a browser without JavaScript meets it: a cookie jar of
//! one session, the login form with its CSRF field, plain GETs and POSTs.

use crate::TestNode;

/// A logged-in session on one node.
pub struct Browser {
    pub agent: ureq::Agent,
    pub base: String,
    pub cookie: String,
}

/// An HTTP agent that returns every status and follows no redirect.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// Posts the login form as a browser does: the form's CSRF field and cookie
/// come from loading the login page first.
pub fn post_login(agent: &ureq::Agent, base: &str, token: &str) -> ureq::http::Response<ureq::Body> {
    let mut page = agent.get(format!("{base}/login")).call().unwrap();
    let set = page.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let html = page.body_mut().read_to_string().unwrap();
    let i = html.find("name=\"login_csrf\" value=\"").unwrap() + 25;
    let nonce = html[i..i + 32].to_string();
    agent
        .post(format!("{base}/login"))
        .header("Cookie", &cookie)
        .send_form([("token", token), ("login_csrf", nonce.as_str())])
        .unwrap()
}

/// Follows a one-time login link as a person does: opens it (which logs
/// nobody in), reads whom it logs in as, presses the button. Returns the
/// page's text and the button's answer (`None` when the link shows no
/// button: used or expired).
pub fn follow_login_link(
    agent: &ureq::Agent,
    base: &str,
    path: &str,
) -> (String, Option<ureq::http::Response<ureq::Body>>) {
    let mut page = agent.get(format!("{base}{path}")).call().unwrap();
    let set = page.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(!set.starts_with("kawan_session="), "opening a link started a session: {set}");
    let cookie = set.split(';').next().unwrap_or("").to_string();
    let html = page.body_mut().read_to_string().unwrap();
    let field = |name: &str| {
        let at = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
        Some(html[at..].split('"').next()?.to_string())
    };
    let (Some(code), Some(nonce)) = (field("code"), field("login_csrf")) else { return (html, None) };
    let resp = agent
        .post(format!("{base}/login/once"))
        .header("Cookie", &cookie)
        .send_form([("code", code.as_str()), ("login_csrf", nonce.as_str())])
        .unwrap();
    (html, Some(resp))
}

impl Browser {
    /// Logs in with the node's operator token.
    pub fn login(n: &TestNode) -> Browser {
        Browser::login_as(n, &n.token)
    }

    /// Logs in with `token` (a coordinator's, say).
    pub fn login_as(n: &TestNode, token: &str) -> Browser {
        let agent = agent();
        let resp = post_login(&agent, &n.base, token);
        assert_eq!(resp.status(), 303);
        let set = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
        let cookie = set.split(';').next().unwrap().to_string();
        assert!(!cookie.contains(token), "the cookie holds a session id, never the token");
        Browser { agent, base: n.base.clone(), cookie }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let mut r = self.agent.get(format!("{}{path}", self.base)).header("Cookie", &self.cookie).call().unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
    }

    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .send_form(form.iter().copied())
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
    }

    /// The CSRF token of the current session, read from a form.
    pub fn csrf(&self) -> String {
        let (_, html) = self.get("/bulk");
        let i = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        html[i..i + 64].to_string()
    }
}
