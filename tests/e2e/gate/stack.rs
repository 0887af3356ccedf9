//! One gated site for a test: curfewd with `--gate-host`, the office app (Django, trusting
//! `Remote-User`), and nginx or Caddy running the very files of `deploy/` in front of
//! both; plus the plain HTTP requests (reqwest, no redirects followed, cookies by hand)
//! the tests send through it.

use std::time::{Duration, Instant};

use curfew::api::{ClientKind, UserQuery};
use curfew_testkit::gate::{self, Process};
use uuid::Uuid;

use crate::support::{Server, ServerOptions, PASSWORD};

/// The organisation's name on the sign-in page.
pub const BRAND: &str = "Acme Office";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proxy {
    Nginx,
    Caddy,
}

impl Proxy {
    pub fn name(self) -> &'static str {
        match self {
            Proxy::Nginx => "nginx",
            Proxy::Caddy => "caddy",
        }
    }
}

pub struct Gate {
    pub proxy: Proxy,
    pub server: Server,
    /// The gated app as the browser opens it: `http://127.0.0.1:PORT`.
    pub url: String,
    /// The app itself, bypassing the proxy (as an attacker on its network would).
    pub app_url: String,
    pub http: reqwest::Client,
    // Stopped before curfewd (fields drop in order).
    _proxy_process: Process,
    _app: Process,
    _dir: tempfile::TempDir,
}

impl Gate {
    pub fn start(proxy: Proxy) -> Gate {
        let port = curfew_testkit::free_port();
        let host = format!("127.0.0.1:{port}");
        let server = Server::start_with(ServerOptions {
            args: vec![
                "--gate-host".into(),
                host.clone(),
                "--brand-name".into(),
                BRAND.into(),
                "--trust-forwarded-for".into(),
            ],
            ..ServerOptions::default()
        });
        server.add_user("root", "admin");
        server.add_user("wendy", "member");
        let dir = tempfile::tempdir().unwrap();
        let app_port = curfew_testkit::free_port();
        // Caddy cannot rewrite pages: there the app's template loads the banner itself.
        let app = gate::start_webapp(dir.path(), app_port, proxy == Proxy::Caddy)
            .unwrap_or_else(|e| panic!("{e}"));
        let curfewd = server.url.trim_start_matches("http://").to_owned();
        let app_address = format!("127.0.0.1:{app_port}");
        let proxy_dir = dir.path().join(proxy.name());
        std::fs::create_dir_all(&proxy_dir).unwrap();
        let proxy_process = match proxy {
            Proxy::Nginx => gate::start_nginx(&gate::NginxSetup {
                dir: &proxy_dir,
                port,
                curfewd: &curfewd,
                app: &app_address,
                workers: "1",
                extra_http: "",
                access_log: true,
            }),
            Proxy::Caddy => gate::start_caddy(&proxy_dir, port, &curfewd, &app_address),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        Gate {
            proxy,
            server,
            url: format!("http://{host}"),
            app_url: format!("http://{app_address}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            _proxy_process: proxy_process,
            _app: app,
            _dir: dir,
        }
    }

    /// The same site's origin, as a browser sends it with a form.
    pub fn origin(&self) -> &str {
        &self.url
    }

    pub async fn admin(&self) -> curfew::Client {
        self.server.login("root", ClientKind::App).await.0
    }

    pub async fn user_id(&self, admin: &curfew::Client, username: &str) -> Uuid {
        let page = admin
            .users(&UserQuery {
                q: Some(username.into()),
                ..UserQuery::default()
            })
            .await
            .unwrap();
        page.users
            .iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no user {username}"))
            .id
    }

    /// POST /.curfew/sign-in as a form, with these extra headers.
    pub async fn post_sign_in(
        &self,
        username: &str,
        rd: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("username", username)
            .append_pair("password", PASSWORD)
            .append_pair("rd", rd)
            .finish();
        let mut request = self
            .http
            .post(format!("{}/.curfew/sign-in", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// Signs in through the proxy as a same-origin form would; returns the cookie pair
    /// (`curfew_session=…`).
    pub async fn sign_in_cookie(&self, username: &str) -> String {
        let response = self
            .post_sign_in(username, "/", &[("origin", self.origin())])
            .await;
        assert_eq!(
            response.status(),
            303,
            "sign-in of {username} through {:?}",
            self.proxy
        );
        session_cookie(&response).unwrap_or_else(|| panic!("no session cookie: {response:?}"))
    }

    /// GET through the proxy (or `base` for another address), with a cookie and headers.
    pub async fn get_at(
        &self,
        base: &str,
        path: &str,
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.http.get(format!("{base}{path}"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        self.get_at(&self.url, path, cookie, &[]).await
    }

    /// What the app received (its `/whoami`), through the proxy.
    pub async fn whoami(&self, cookie: &str, headers: &[(&str, &str)]) -> serde_json::Value {
        let response = self
            .get_at(&self.url, "/whoami", Some(cookie), headers)
            .await;
        assert_eq!(response.status(), 200, "{:?}: /whoami", self.proxy);
        response.json().await.unwrap()
    }

    /// Waits until `check` holds, up to `within`.
    pub async fn until<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + within;
        while !check().await {
            assert!(
                Instant::now() < deadline,
                "{:?}: {what} within {within:?}",
                self.proxy
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `curfew_session=VALUE` from a response's Set-Cookie, if it sets a live one.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .filter(|c| !c.to_ascii_lowercase().contains("max-age=0"))
        .find_map(|c| {
            let pair = c.split(';').next()?.trim().to_owned();
            (pair.starts_with("curfew_session=") && pair.len() > "curfew_session=".len())
                .then_some(pair)
        })
}

pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
