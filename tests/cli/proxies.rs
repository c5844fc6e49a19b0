//! Proxy variables: calls to a loopback endpoint never go through a proxy,
//! and neither does a credentials URI.

use crate::harness::{stdout_of, Setup, TWO_INTO_PROD};

/// A stand-in for a remote proxy, on another loopback address (nothing in
/// these tests leaves the machine): it closes every connection at once, so
/// that a client that does use it fails fast instead of waiting.
struct FakeProxy {
    url: String,
    accepted: std::sync::mpsc::Receiver<std::net::SocketAddr>,
}

impl FakeProxy {
    fn start() -> FakeProxy {
        let listener = std::net::TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (send, accepted) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Ok((_, peer)) = listener.accept() {
                if send.send(peer).is_err() {
                    break;
                }
            }
        });
        FakeProxy { url, accepted }
    }

    /// How many connections it has had. A connection of our own goes last:
    /// connections are accepted in order, so every one made before it has
    /// been counted once it comes through.
    fn connections(&self) -> usize {
        let address = self.url.trim_start_matches("http://");
        let sentinel = std::net::TcpStream::connect(address).unwrap();
        let mine = sentinel.local_addr().unwrap();
        self.accepted
            .iter()
            .take_while(|peer| *peer != mine)
            .count()
    }
}

#[test]
fn proxy_variables_never_see_calls_to_a_loopback_endpoint() {
    let proxy = FakeProxy::start();
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    for variable in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
    ] {
        let (code, out, err) = stdout_of(
            env.regroup(&["plan", "--max-tries", "1"])
                .env(variable, &proxy.url),
        );
        assert_eq!(
            proxy.connections(),
            0,
            "{variable}: the proxy was contacted"
        );
        assert_eq!(code, 0, "{variable}: {err}");
        assert!(out.contains("2 to move"), "{variable}: {out}");
    }
}

/// The credentials URI answers with a secret and a token, so a plain-http or
/// loopback URI is fetched directly even when regroup talks to Alibaba
/// Cloud's own endpoints (which may be proxied). The URI names a closed
/// loopback port: the fetch fails, so the run stops in the credential chain
/// before any API call, and nothing can leave the machine.
#[test]
fn a_credentials_uri_is_never_fetched_through_a_proxy() {
    let proxy = FakeProxy::start();
    let env = Setup::new().start();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/credentials", listener.local_addr().unwrap())
    };
    let (code, out, err) = stdout_of(
        env.regroup(&["whoami", "--max-tries", "1"])
            .env_remove("REGROUP_ENDPOINT")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env("ALIBABA_CLOUD_CREDENTIALS_URI", &closed)
            .env("HTTP_PROXY", &proxy.url)
            .env("ALL_PROXY", &proxy.url),
    );
    assert_eq!(
        proxy.connections(),
        0,
        "the credentials URI went through the proxy: {out}{err}"
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("credentials URI"), "{err}");
}
